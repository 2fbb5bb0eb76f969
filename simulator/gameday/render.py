"""The after-action report as text: a terminal table and gameday.md, plus gameday.json."""

from __future__ import annotations

import json
from pathlib import Path

from tabulate import tabulate

from simulator.gameday.report import (
    GAMEDAY_HTML,
    GAMEDAY_JSON,
    GAMEDAY_MARKDOWN,
    AckLine,
    AfterActionReport,
    FindingReport,
    StepLine,
)
from simulator.reports import PASS, format_runbook
from simulator.reports.redact import redact_text

_ICONS = {"within SLA": "✅", "escalated": "📟", "missed": "❌", "error": "❌", "not injected": "⏹",
          "met": "✅", "late": "⚠️", "missing": "❌"}


def margin_text(step: StepLine) -> str:
    margin = step.margin_seconds
    if margin is None:
        return "-"
    return f"{format_runbook(margin)} to spare" if margin >= 0 else f"{format_runbook(-margin)} over"


def _ack_text(ack: AckLine | None) -> str:
    if ack is None:
        return "-"
    return f"{ack.by} at {format_runbook(ack.seconds)} (level {ack.level})"


def ack_sentence(ack: AckLine | None, finding: FindingReport) -> str:
    if ack is None:
        if not finding.finding_id:
            return "Nobody acknowledged (the finding was not injected)."
        return "Nobody acknowledged." + (" The on-call is a person (`simulate ack`)." if finding.human else "")
    text = f"Acknowledged by {ack.by} at level {ack.level}, {format_runbook(ack.seconds)} after injection"
    if ack.before_next_level is True:
        text += f", before level {ack.next_level} was due ({format_runbook(ack.next_level_due_seconds)})"
    elif ack.before_next_level is False:
        text += f", after level {ack.next_level} was due ({format_runbook(ack.next_level_due_seconds)}): late"
    return text + "."


def paging_sentence(finding: FindingReport) -> str:
    if not finding.finding_id:
        return ""
    if not finding.pages:
        spared = ", ".join(map(str, finding.levels_not_paged))
        return f"Escalation: nobody was paged (levels {spared} spared)." if spared else "Escalation: nobody was paged."
    parts = [f"level {page.level}" + (f" ({page.contact})" if page.contact else "")
             + f" paged at {format_runbook(page.seconds)}" + _due(page.due_seconds)
             for page in finding.pages]
    if finding.levels_not_paged:
        so_far = " (before the interruption)" if finding.cut_short else ""
        parts.append("not paged: level " + ", ".join(map(str, finding.levels_not_paged)) + so_far)
    return "Escalation: " + "; ".join(parts) + "."


def _due(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return " (runbook: at once)" if seconds == 0 else f" (runbook: at {format_runbook(seconds)})"


def summary_rows(report: AfterActionReport) -> list[list[str]]:
    rows = []
    for finding in report.findings:
        notify = next((s for s in finding.steps if s.kind == "notification_delivered"), None)
        remediation = next((s for s in finding.steps if s.kind not in (
            "notification_delivered", "escalation_paged", "escalation_not_paged")), None)
        rows.append([
            finding.key, finding.scenario,
            f"+{format_runbook(finding.injected_seconds)}" if finding.injected_seconds is not None else "-",
            format_runbook(finding.detect_seconds),
            format_runbook(notify.observed_seconds) if notify else "n/a",
            format_runbook(remediation.observed_seconds) if remediation else "n/a",
            _ack_text(finding.acknowledgement),
            ",".join(map(str, finding.levels_paged)) or "-",
            ",".join(map(str, finding.levels_not_paged)) or "-",
            f"{sum(1 for s in finding.steps if s.verdict == 'met')}/{len(finding.steps)}",
            finding.outcome + (" (cut short)" if finding.cut_short else ""),
        ])
    return rows


SUMMARY_HEADERS = ["#", "scenario", "in at", "detected", "notify", "quarantine", "ack", "paged", "not paged",
                   "steps met", "outcome"]


def headline(report: AfterActionReport) -> str:
    state = "INTERRUPTED" if report.interrupted else report.verdict.upper()
    return (f"{state} game day {report.name}: {report.handled} of {len(report.findings)} finding(s) handled "
            "(within SLA or escalated per the runbook)")


def render_terminal(report: AfterActionReport) -> str:
    table = tabulate(summary_rows(report), headers=SUMMARY_HEADERS, tablefmt="simple", disable_numparse=True)
    lines = [table, "", headline(report)]
    for finding in report.findings:
        if finding.outcome not in ("within SLA",):
            reason = finding.error or finding.verdict_line or finding.outcome
            lines.append(f"  {finding.key} {finding.scenario}: {finding.outcome}: {redact_text(reason)}")
            if finding.repro and finding.outcome != "not injected":
                lines.append(f"     repro: {finding.repro}")
    return "\n".join(lines)


def render_markdown(report: AfterActionReport, *, run_report: str | None = None) -> str:
    icon = "⏹" if report.interrupted else ("✅" if report.verdict == PASS else "❌")
    lines = [f"## {icon} After-action report: {headline(report)}", ""]
    if report.interrupted:
        lines += ["> **Interrupted**: the game day was stopped before its end; this report holds what was seen "
                  "until then. Findings cut short were judged on what was observed so far.", ""]
    window = f", window {format_runbook(report.window_seconds)}" if report.window_seconds else ""
    wall = f"; {report.wall_seconds:.1f} s wall" if report.wall_seconds is not None else ""
    lines += [f"Plan `{report.plan}`, run `{report.run_id}`, seed {report.seed}, time scale {report.time_scale:g}x"
              f"{window}; started {report.started_at}{wall}.",
              "Times are runbook time: a finding's from its injection, `in at` from the start of the game day.", ""]
    if report.description:
        lines += [f"> {report.description.strip()}", ""]
    lines += ["| " + " | ".join(SUMMARY_HEADERS) + " |", "|" + "---|" * len(SUMMARY_HEADERS)]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in summary_rows(report)]
    lines.append("")
    for finding in report.findings:
        lines += _finding(finding)
    if report.harness_errors:
        lines += ["### Harness problems", "", *(f"- {_cell(error)}" for error in report.harness_errors), ""]
    if run_report:
        lines += [f"Every scenario's steps, invariants, timeline and API journal: [{run_report}]({run_report}).", ""]
    return "\n".join(lines)


def _cell(value: object) -> str:
    return redact_text(str(value)).replace("|", "\\|").replace("\n", " ")


def _finding(finding: FindingReport) -> list[str]:
    icon = _ICONS.get(finding.outcome, "•")
    title = f"### {icon} {finding.key} `{finding.scenario}`: {finding.outcome}"
    injected = (f"injected at +{format_runbook(finding.injected_seconds)}"
                if finding.injected_seconds is not None else "not injected")
    scheduled = f"scheduled +{format_runbook(finding.scheduled_seconds)} ({'random' if finding.random else 'fixed'})"
    meta = [f"`{finding.finding_type}`", f"finding `{finding.finding_id or '-'}`", injected, scheduled,
            f"on-call: {finding.oncall}", f"seed {finding.seed}"]
    if finding.chaos:
        meta.append(f"chaos {finding.chaos}")
    lines = [title, "", " · ".join(meta), ""]
    if finding.error:
        lines += [f"**Error:** {_cell(finding.error)}", ""]
    if finding.cut_short:
        lines += ["_Observation was cut short by the interruption._", ""]
    if finding.steps:
        lines += [f"Time to detect (first observable response): {format_runbook(finding.detect_seconds)}.", "",
                  "| step | what | SLA | observed | margin | verdict |", "|---|---|---:|---:|---|---|"]
        lines += [f"| `{s.id}` | {_cell(s.title)} | {s.sla_text or format_runbook(s.sla_seconds)} | "
                  f"{format_runbook(s.observed_seconds)} | {margin_text(s)} | {_ICONS.get(s.verdict, '')} {s.verdict} |"
                  for s in finding.steps]
        lines.append("")
    paging = paging_sentence(finding)
    if paging:
        lines += [paging, "", ack_sentence(finding.acknowledgement, finding), ""]
    if finding.invariants_broken:
        lines += ["Invariants broken:", "", *(f"- {_cell(text)}" for text in finding.invariants_broken), ""]
    if finding.repro:
        lines += ["```sh", finding.repro, "```", ""]
    return lines


def write_after_action(report: AfterActionReport, folder: Path, *, with_run_report: bool = False) -> dict[str, Path]:
    """gameday.json, gameday.md and gameday.html in ``folder`` (linking the run's report files beside them when
    ``with_run_report``); returns {"json"|"markdown"|"html": path}."""
    from simulator.gameday.html import render_html

    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / GAMEDAY_JSON, "markdown": folder / GAMEDAY_MARKDOWN, "html": folder / GAMEDAY_HTML}
    data = report.to_dict()
    data["run_report"] = "report.json" if with_run_report else None
    paths["json"].write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    paths["markdown"].write_text(render_markdown(report, run_report="report.md" if with_run_report else None),
                                 encoding="utf-8")
    paths["html"].write_text(render_html(report, run_report="report.html" if with_run_report else None),
                             encoding="utf-8")
    return paths
