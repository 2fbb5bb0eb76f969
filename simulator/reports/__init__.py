"""Reports of a run: the terminal table and report.json (DESIGN.md's contract)."""

from simulator.reports.json_report import (
    REPORT_FILE,
    report_schema,
    report_to_dict,
    validate_report_data,
    write_json,
)
from simulator.reports.model import (
    FAIL,
    PASS,
    ChaosEffects,
    InvocationSummary,
    JournalStats,
    RunReport,
    ScenarioResult,
    repro_command,
    scenario_argument,
)
from simulator.reports.table import format_runbook, format_wall, render_scenario, render_table, verdict_line

__all__ = [
    "FAIL",
    "PASS",
    "REPORT_FILE",
    "ChaosEffects",
    "InvocationSummary",
    "JournalStats",
    "RunReport",
    "ScenarioResult",
    "format_runbook",
    "format_wall",
    "render_scenario",
    "render_table",
    "report_schema",
    "report_to_dict",
    "repro_command",
    "scenario_argument",
    "validate_report_data",
    "verdict_line",
    "write_json",
]
