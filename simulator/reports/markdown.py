"""report.md: the run summarised for a CI job page (GitHub step summary, GitLab, a pull request comment)."""

from __future__ import annotations

from pathlib import Path

from simulator.reports.model import PASS, RunReport, ScenarioResult
from simulator.reports.redact import redact_text
from simulator.reports.table import chaos_summary, format_runbook, format_wall, verdict_line
from simulator.verdicts.model import MET

MARKDOWN_FILE = "report.md"
_ICONS = {"pass": "✅", "fail": "❌", "met": "✅", "late": "⚠️", "missing": "❌"}
_CELL_LIMIT = 160


def _cell(value: object) -> str:
    """Text made safe for one table cell: redacted, on one line, pipes escaped, not too long."""
    text = redact_text("" if value is None else str(value))
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= _CELL_LIMIT else text[:_CELL_LIMIT - 1] + "…"


def _steps(result: ScenarioResult) -> list[str]:
    lines = ["| step | what | SLA | observed | wall | verdict | note |", "|---|---|---:|---:|---:|---|---|"]
    for step in result.steps:
        note = step.detail if step.verdict != MET and step.detail else ""
        sla = _cell(step.sla_text or format_runbook(step.sla_seconds))
        lines.append(f"| `{_cell(step.id)}` | {_cell(step.title)} | {sla} "
                     f"| {format_runbook(step.observed_seconds)} | {format_wall(step.observed_wall_seconds)} "
                     f"| {_ICONS.get(step.verdict, '')} {step.verdict} | {_cell(note)} |")
    return lines


def _invariants(result: ScenarioResult) -> list[str]:
    lines = ["| invariant | result | detail |", "|---|---|---|"]
    for inv in result.invariants:
        state = "✅ held" if inv.held else "❌ broken"
        extra = [line for line in inv.violations if line != inv.detail][:3] if not inv.held else []
        detail = "; ".join([inv.detail, *extra])
        lines.append(f"| `{_cell(inv.id)}` | {state} | {_cell(detail)} |")
    return lines


def _misses(result: ScenarioResult) -> list[str]:
    if not result.journal_excerpt:
        return []
    lines = ["<details><summary>API journal around misses "
             f"({len(result.journal_excerpt)} call(s))</summary>", "",
             "| # | at | caller | call | status | why shown |", "|---:|---:|---|---|---|---|"]
    for line in result.journal_excerpt:
        at = format_runbook(line.at_seconds) if line.at_seconds is not None else "-"
        status = f"{line.status} {line.error_code or ''}".strip() + (f" (fault {line.fault})" if line.fault else "")
        lines.append(f"| {line.seq} | {at} | {_cell(line.caller)} | `{_cell(line.service)}:{_cell(line.operation)}` "
                     f"| {_cell(status)} | {_cell('; '.join(line.reasons))} |")
    return [*lines, "", "</details>"]


def _scenario(result: ScenarioResult) -> list[str]:
    icon = _ICONS.get(result.verdict, "")
    lines = [f"### {icon} `{result.id}`: {_cell(result.title)}", ""]
    facts = [", ".join(f"`{t}`" for t in result.finding_types), f"time scale {result.time_scale:g}x"]
    if result.seed is not None:
        facts.append(f"seed {result.seed}")
    lines += [" · ".join(facts), "", f"**{_cell(verdict_line(result))}**", ""]
    if result.error:
        lines += [f"Run aborted: {_cell(result.error)}", ""]
    lines += [*_steps(result), "", *_invariants(result), ""]
    summary = chaos_summary(result)
    if summary and result.chaos is not None:
        lines += [f"**{_cell(summary)}**", ""]
        lines += [f"- {_cell(line)}" for line in [*result.chaos.attribution, *result.chaos.fault_calls,
                                                 *result.chaos.deliveries]]
        lines += [""]
    elif result.faults:
        lines += [f"Chaos faults that fired: {len(result.faults)}", ""]
    misses = _misses(result)
    if misses:
        lines += [*misses, ""]
    if result.verdict != PASS:
        lines += ["Reproduce:", "", "```sh", result.repro, "```", ""]
    return lines


def render_markdown(report: RunReport) -> str:
    """The run as Markdown: an overall line, then per scenario its steps, invariants and repro."""
    passed = sum(1 for result in report.scenarios if result.verdict == PASS)
    steps = [step for result in report.scenarios for step in result.steps]
    met = sum(1 for step in steps if step.verdict == MET)
    icon = _ICONS.get(report.verdict, "")
    lines = [
        f"## {icon} gdsim {report.verdict.upper()}: {passed} of {len(report.scenarios)} scenario(s) passed",
        "",
        f"Run `{report.run_id}` on {report.target}, {met} of {len(steps)} steps within SLA; "
        f"time scale {report.time_scale:g}x" + (f", seed {report.seed}" if report.seed is not None else "") + ".",
        "Times are runbook time from injection; wall time is runbook time divided by the time scale.",
        "",
    ]
    for result in report.scenarios:
        lines += _scenario(result)
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(report: RunReport, path: Path | str) -> Path:
    """Write report.md to ``path`` (a file, or a folder to put report.md in); returns the file."""
    target = Path(path)
    if target.is_dir():
        target = target / MARKDOWN_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_markdown(report), encoding="utf-8")
    return target
