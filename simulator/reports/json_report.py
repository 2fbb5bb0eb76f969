"""report.json: the run as DESIGN.md's report contract defines it, with extra fields beside the contract's."""

from __future__ import annotations

import json
from dataclasses import asdict
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from simulator.reports.model import RunReport, ScenarioResult
from simulator.reports.timeline import to_data
from simulator.verdicts.model import Invariant, StepVerdict

REPORT_FILE = "report.json"


def _step(step: StepVerdict) -> dict[str, Any]:
    return {
        "id": step.id,
        "sla_seconds": float(step.sla_seconds),
        "observed_seconds": step.observed_seconds,
        "verdict": step.verdict,
        "title": step.title,
        "kind": step.kind,
        "sla_text": step.sla_text,
        "observed_wall_seconds": step.observed_wall_seconds,
        "source": step.source,
        "operation": step.operation,
        "detail": step.detail,
    }


def _invariant(invariant: Invariant) -> dict[str, Any]:
    return {"id": invariant.id, "held": invariant.held, "detail": invariant.detail,
            "violations": list(invariant.violations)}


def _scenario(result: ScenarioResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "finding_types": list(result.finding_types),
        "verdict": result.verdict,
        "steps": [_step(step) for step in result.steps],
        "invariants": [_invariant(inv) for inv in result.invariants],
        "title": result.title,
        "finding_ids": list(result.finding_ids),
        "time_scale": result.time_scale,
        "seed": result.seed,
        "unmet": len(result.unmet),
        "observed_for_wall_seconds": result.observed_for_wall_seconds,
        "invocations": asdict(result.invocations),
        "journal": asdict(result.journal),
        "error": result.error,
        "repro": result.repro,
        "timeline": to_data(result.timeline),
        "journal_excerpt": to_data(result.journal_excerpt),
        "faults": to_data(result.faults),
        "harness_errors": list(result.harness_errors),
        "chaos": asdict(result.chaos) if result.chaos is not None else None,
    }


def report_to_dict(report: RunReport) -> dict[str, Any]:
    """The report as JSON-ready data (the contract's keys first)."""
    return {
        "run_id": report.run_id,
        "target": report.target,
        "scenarios": [_scenario(result) for result in report.scenarios],
        "verdict": report.verdict,
        "time_scale": report.time_scale,
        "seed": report.seed,
        "started_at": report.started_at,
        "chaos": report.chaos,
        "responder": report.responder,
        "seconds": "runbook time from injection; *_wall_seconds are the wall clock (runbook / time_scale)",
    }


def write_json(report: RunReport, path: Path | str) -> Path:
    """Write ``report`` to ``path`` (a file, or a folder to put report.json in); returns the file."""
    target = Path(path)
    if target.is_dir():
        target = target / REPORT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report_to_dict(report), indent=2, allow_nan=False)
    target.write_text(text + "\n", encoding="utf-8")
    return target


@cache
def report_schema() -> dict[str, Any]:
    """The JSON Schema of report.json (simulator/reports/schema.json)."""
    text = resources.files("simulator.reports").joinpath("schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_report_data(data: Any) -> list[str]:
    """Every way ``data`` breaks the report contract, as "path: message" lines (empty when valid)."""
    import jsonschema  # only validation needs it

    validator = jsonschema.Draft202012Validator(report_schema())
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(part) for part in error.absolute_path) or "(top)"
        problems.append(f"{where}: {error.message}")
    return problems
