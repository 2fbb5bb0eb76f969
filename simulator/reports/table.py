"""The terminal report: per scenario a table of steps and one of invariants, a verdict line and, when
it failed, the command that replays it."""

from __future__ import annotations

from tabulate import tabulate

from simulator.reports.model import PASS, RunReport, ScenarioResult

_DETAIL_WIDTH = 72


def format_runbook(seconds: float | None) -> str:
    """Runbook time the way runbooks write it: 42.3s, 4m05s, 1h02m."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def format_wall(seconds: float | None) -> str:
    """Wall-clock time at a precision that means something for it: 12 ms, 1.84 s."""
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _steps_table(result: ScenarioResult) -> str:
    rows = []
    for step in result.steps:
        note = step.detail if step.verdict != "met" and step.detail else ""
        rows.append([step.id, step.title, step.sla_text or format_runbook(step.sla_seconds),
                     format_runbook(step.observed_seconds), format_wall(step.observed_wall_seconds),
                     step.verdict.upper() if step.verdict != "met" else step.verdict, note])
    headers = ["step", "what", "SLA", "observed", "wall", "verdict", "note"]
    widths: list[int | None] = [None, 44, None, None, None, None, 48]
    if not any(row[-1] for row in rows):
        rows, headers, widths = [row[:-1] for row in rows], headers[:-1], widths[:-1]
    return tabulate(rows, headers=headers, maxcolwidths=widths, disable_numparse=True)


def _invariants_table(result: ScenarioResult) -> str:
    rows = [[inv.id, "held" if inv.held else "BROKEN", inv.detail] for inv in result.invariants]
    return tabulate(rows, headers=["invariant", "result", "detail"], maxcolwidths=[None, None, _DETAIL_WIDTH],
                    disable_numparse=True)


def verdict_line(result: ScenarioResult) -> str:
    """PASS/FAIL with counts; a failure says how many steps were unmet after how long (runbook time)."""
    total = len(result.steps)
    held = len(result.invariants) - len(result.broken)
    if result.verdict == PASS:
        return (f"PASS {result.id}: {total} of {total} steps met, "
                f"{held} of {len(result.invariants)} invariants held")
    parts = []
    if result.error:
        parts.append(f"run aborted: {result.error}")
    if result.unmet:
        window = result.observed_for_wall_seconds
        after = ""
        if window is not None:
            after = f" after {format_wall(window)} (runbook {format_runbook(window * result.time_scale)})"
        parts.append(f"{len(result.unmet)} of {total} steps unmet{after}")
    if result.broken:
        parts.append(f"{len(result.broken)} invariant(s) broken ({', '.join(inv.id for inv in result.broken)})")
    return f"FAIL {result.id}: " + "; ".join(parts)


def render_scenario(result: ScenarioResult) -> str:
    header = f"{result.id}: {result.title}" + (f"  [{', '.join(result.finding_types)}]" if result.finding_types else "")
    seed = f", seed {result.seed}" if result.seed is not None else ""
    starts = result.invocations
    lines = [
        header,
        f"time scale {result.time_scale:g}x{seed}; SLAs and observed times in runbook time from injection",
        "",
        _steps_table(result),
        "",
        _invariants_table(result),
        "",
        f"invocations: {starts.total} ({starts.cold} cold, {starts.warm} warm), {starts.errors} error(s), "
        f"{starts.timeouts} timeout(s), {starts.dead_letters} dead letter(s); "
        f"API calls: {result.journal.calls} ({result.journal.mutating} mutating, {result.journal.errors} failed)",
        verdict_line(result),
    ]
    lines += chaos_lines(result)
    if result.verdict != PASS:
        lines.append(f"repro: {result.repro}")
    return "\n".join(lines)


def chaos_summary(result: ScenarioResult) -> str | None:
    """One line: the profile, the faults it injected and the deliveries it bent; None without chaos."""
    chaos = result.chaos
    if chaos is None:
        return None
    faults = ", ".join(f"{name} x{count}" for name, count in sorted(chaos.faults.items())) or "no fault fired"
    planned, anomalies = chaos.planned_deliveries, len(chaos.deliveries)
    return (f"chaos {chaos.profile}: {faults}; {planned} deliver{'y' if planned == 1 else 'ies'} planned, "
            f"{anomalies} anomal{'y' if anomalies == 1 else 'ies'}")


def chaos_lines(result: ScenarioResult) -> list[str]:
    """The chaos summary and which chaos caused which miss, for the terminal."""
    summary = chaos_summary(result)
    if summary is None or result.chaos is None:
        return []
    return [summary, *(f"  {line}" for line in result.chaos.attribution)]


def render_table(report: RunReport) -> str:
    """The whole run for a terminal."""
    blocks = [render_scenario(result) for result in report.scenarios]
    if len(report.scenarios) != 1:
        passed = sum(1 for result in report.scenarios if result.verdict == PASS)
        blocks.append(f"{report.run_id} on {report.target}: {passed} of {len(report.scenarios)} scenarios passed")
    return "\n\n".join(blocks) + "\n"
