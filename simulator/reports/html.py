"""report.html: the game-day scorecard, one self-contained file (inline CSS and SVG, no scripts, no links out).

Per scenario: a timeline, the steps against their SLAs, the invariants, the chaos faults that fired, the API
journal around misses, the responder's invocations and the command that replays the run. Every free text that
could carry a secret (details, parameters, logs, errors) is redacted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from simulator.reports.html_style import CSS
from simulator.reports.model import PASS, RunReport, ScenarioResult
from simulator.reports.redact import redact_text
from simulator.reports.svg_timeline import COLOURS, render_timeline_svg
from simulator.reports.table import chaos_summary, format_runbook, format_wall, verdict_line
from simulator.reports.timeline import JournalLine
from simulator.verdicts.model import MET

HTML_FILE = "report.html"


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _safe(value: object) -> str:
    """Escaped and redacted: for text that comes from the responder or the sandbox."""
    return escape(redact_text("" if value is None else str(value)))


def _badge(text: str, kind: str | None = None) -> str:
    return f'<span class="badge {_e(kind or text)}">{_e(text)}</span>'


def _table(headers: Iterable[str], rows: Iterable[str], css: str = "") -> str:
    head = "".join(f"<th>{_e(header)}</th>" for header in headers)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("gdsim")
    except Exception:  # not installed: the scorecard still renders
        return "dev"


def _steps(result: ScenarioResult) -> str:
    if not result.steps:
        return '<p class="empty">no steps were judged</p>'
    rows = []
    for step in result.steps:
        dated = f"{step.source}: {step.operation}" if step.operation else (step.source or "")
        rows.append(
            f'<tr class="step {_e(step.verdict)}" data-step="{_e(step.id)}" data-verdict="{_e(step.verdict)}">'
            f"<td><code>{_e(step.id)}</code></td><td>{_e(step.title)}</td>"
            f'<td class="num">{_e(step.sla_text or format_runbook(step.sla_seconds))}</td>'
            f'<td class="num">{_e(format_runbook(step.observed_seconds))}</td>'
            f'<td class="num">{_e(format_wall(step.observed_wall_seconds))}</td>'
            f"<td>{_badge(step.verdict)}</td><td>{_e(dated)}</td><td>{_safe(step.detail or '')}</td></tr>")
    return _table(["step", "what", "SLA", "observed", "wall", "verdict", "dated by", "note"], rows, "steps")


def _invariants(result: ScenarioResult) -> str:
    if not result.invariants:
        return '<p class="empty">no invariants were checked</p>'
    rows = []
    for inv in result.invariants:
        state = "held" if inv.held else "broken"
        violations = "".join(f"<li>{_safe(v)}</li>" for v in inv.violations if v != inv.detail)
        listed = f"<ul>{violations}</ul>" if violations else ""
        rows.append(f'<tr class="invariant {state}" data-invariant="{_e(inv.id)}"><td><code>{_e(inv.id)}</code></td>'
                    f"<td>{_badge(state)}</td><td>{_safe(inv.detail)}{listed}</td></tr>")
    return _table(["invariant", "result", "detail"], rows, "invariants")


def _journal(lines: list[JournalLine], css: str, empty: str) -> str:
    if not lines:
        return f'<p class="empty">{_e(empty)}</p>'
    rows = []
    for line in lines:
        outcome = str(line.status) + (f" {line.error_code}" if line.error_code else "")
        rows.append(
            f'<tr class="call" data-seq="{line.seq}"><td class="num">{line.seq}</td>'
            f'<td class="num">{_e(format_runbook(line.at_seconds) if line.at_seconds is not None else "-")}</td>'
            f'<td class="why">{_e("; ".join(line.reasons))}</td>'
            f'<td class="call"><code>{_e(line.service)}:{_e(line.operation)}</code></td><td>{_e(line.caller)}</td>'
            f'<td class="ids">{_safe(", ".join(line.resource_ids))}</td>'
            f"<td>{_e(outcome)}</td><td>{_e(line.fault or '')}</td>"
            f'<td class="params mono">{_safe(line.params)}</td></tr>')
    headers = ["#", "at", "why shown", "call", "caller", "resources", "status", "fault", "parameters"]
    return f'<div class="scroll">{_table(headers, rows, css)}</div>'


def _chaos(result: ScenarioResult) -> str:
    """The profile's summary, which chaos caused which miss, and each delivery it bent (empty without chaos)."""
    summary = chaos_summary(result)
    if summary is None or result.chaos is None:
        return ""
    lists = ""
    for title, lines in (("caused", result.chaos.attribution), ("deliveries", result.chaos.deliveries)):
        if lines:
            items = "".join(f"<li>{_safe(line)}</li>" for line in lines)
            lists += f'<ul class="chaos {title}">{items}</ul>'
    return f'<p class="chaos-summary">{_e(summary)}</p>{lists}'


def _invocations(result: ScenarioResult) -> str:
    if not result.invocation_log:
        return '<p class="empty">the responder was never invoked</p>'
    rows = []
    for line in result.invocation_log:
        logs = f"<details><summary>logs</summary><pre>{_safe(line.logs)}</pre></details>" if line.logs else ""
        duration = f"{line.duration_ms:.0f} ms" if line.duration_ms is not None else "-"
        rows.append(
            f'<tr class="invocation {_e(line.outcome)}"><td class="num">{line.attempt}</td>'
            f"<td>{'cold' if line.cold else 'warm'}</td><td>{_badge(line.outcome)}</td>"
            f'<td class="num">{_e(format_runbook(line.at_seconds) if line.at_seconds is not None else "-")}</td>'
            f'<td class="num">{_e(duration)}</td><td>{_safe(line.error or "")}{logs}</td></tr>')
    summary = result.invocations
    caption = (f'<p class="meta">{summary.total} invocation(s): {summary.cold} cold, {summary.warm} warm, '
               f"{summary.errors} error(s), {summary.timeouts} timeout(s), {summary.dead_letters} dead letter(s)</p>")
    return caption + _table(["attempt", "cold/warm", "outcome", "at", "took", "error and logs"], rows, "invocations")


def _legend() -> str:
    items = [(COLOURS[MET], "effect within SLA"), (COLOURS["late"], "late effect"),
             (COLOURS["missing"], "missing / API error"), (COLOURS["page"], "page"),
             (COLOURS["fault"], "chaos fault"), (COLOURS["invocation"], "invocation")]
    return '<div class="legend">' + "".join(f'<span><i style="background:{c}"></i>{_e(t)}</span>'
                                           for c, t in items) + "</div>"


def _timeline(result: ScenarioResult) -> str:
    timeline = result.timeline
    if timeline is None:
        return '<p class="empty">no timeline: the moment of injection is unknown (the finding was never delivered)</p>'
    note = "" if timeline.injection_exact else " The injection moment is taken from the first delivery."
    return (f"<figure>{render_timeline_svg(timeline, title=f'{result.id} timeline')}{_legend()}"
            f"<figcaption>Runbook time from injection on a logarithmic axis; dashed marks are SLAs (steps) and "
            f"due times (escalation levels). Wall time is runbook time divided by the time scale "
            f"({timeline.time_scale:g}x).{_e(note)}</figcaption></figure>")


def _scenario(index: int, result: ScenarioResult) -> str:
    types = ", ".join(result.finding_types)
    ids = ", ".join(result.finding_ids)
    seed = f"<span>seed {_e(result.seed)}</span>" if result.seed is not None else ""
    error = f'<pre class="error">{_safe(result.error)}</pre>' if result.error else ""
    harness = ""
    if result.harness_errors:
        items = "".join(f"<li>{_safe(problem)}</li>" for problem in result.harness_errors)
        harness = f"<h3>Harness errors</h3><ul>{items}</ul>"
    met = sum(1 for step in result.steps if step.verdict == MET)
    missed = "API journal around misses"
    if result.verdict == PASS:
        no_excerpt = "nothing was missed"
    elif result.journal.calls == 0:
        no_excerpt = "the responder made no API call at all"
    else:
        no_excerpt = "no call in the journal relates to the misses"
    return f"""
<section class="scenario {_e(result.verdict)}" id="scenario-{index}" data-scenario="{_e(result.id)}"
 data-verdict="{_e(result.verdict)}">
<h2>{_badge(result.verdict)} <code>{_e(result.id)}</code> {_e(result.title)}</h2>
<p class="meta"><span>{_e(types)}</span><span>finding {_e(ids or '-')}</span>
<span>time scale {result.time_scale:g}x</span>{seed}<span>{met} of {len(result.steps)} steps met</span></p>
<p class="verdict-line">{_safe(verdict_line(result))}</p>{error}
<h3>Timeline</h3>{_timeline(result)}
<h3>Steps</h3>{_steps(result)}
<h3>Invariants</h3>{_invariants(result)}
<h3>Chaos faults that fired</h3>{_chaos(result)}{_journal(result.faults, "faults", "no fault was injected")}
<h3>{missed}</h3>{_journal(result.journal_excerpt, "excerpt", no_excerpt)}
<h3>Responder invocations</h3>{_invocations(result)}{harness}
<h3>Reproduce</h3><pre class="repro"><code>{_e(result.repro)}</code></pre>
</section>"""


def _cards(report: RunReport) -> str:
    scenarios = report.scenarios
    steps = [step for result in scenarios for step in result.steps]
    invariants = [inv for result in scenarios for inv in result.invariants]
    cards = [
        (f"{sum(1 for r in scenarios if r.verdict == PASS)} / {len(scenarios)}", "scenarios passed"),
        (f"{sum(1 for s in steps if s.verdict == MET)} / {len(steps)}", "steps within SLA"),
        (f"{sum(1 for i in invariants if i.held)} / {len(invariants)}", "invariants held"),
        (str(sum(len(r.faults) for r in scenarios)), "chaos faults fired"),
    ]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="value">{_e(value)}</div><div class="what">{_e(what)}</div></div>'
        for value, what in cards) + "</div>"


def _nav(report: RunReport) -> str:
    if len(report.scenarios) < 2:
        return ""
    # Anchors go by position: a run may hold the same scenario twice (several responders, repeats).
    items = "".join(f'<li><a href="#scenario-{index}">{_badge(r.verdict)} {_e(r.id)}</a></li>'
                    for index, r in enumerate(report.scenarios, 1))
    return f'<nav class="scenarios"><ul>{items}</ul></nav>'


def render_html(report: RunReport) -> str:
    """The whole run as one HTML document."""
    extras = [f"<span>responder {_safe(report.responder)}</span>" if report.responder else "",
              f"<span>chaos {_e(report.chaos)}</span>" if report.chaos else "",
              f"<span>seed {_e(report.seed)}</span>" if report.seed is not None else ""]
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    body = "".join(_scenario(index, result) for index, result in enumerate(report.scenarios, 1))
    body = body or '<p class="empty">no scenario ran</p>'
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gdsim scorecard: {_e(report.run_id)} ({_e(report.verdict.upper())})</title>
<style>{CSS}</style>
</head>
<body>
<header class="run" data-verdict="{_e(report.verdict)}">
<h1>Game-day scorecard {_badge(report.verdict)}</h1>
<p class="meta"><span>run <code>{_e(report.run_id)}</code></span><span>target {_e(report.target)}</span>
<span>started {_e(report.started_at)}</span><span>time scale {report.time_scale:g}x</span>{"".join(extras)}</p>
{_cards(report)}
</header>
{_nav(report)}
<main>{body}</main>
<footer>Times are runbook time from injection (SLAs as the runbook writes them); wall time is runbook time
divided by the time scale. Secrets in parameters, logs and details are shown as [redacted].
Generated by gdsim {_e(_version())} at {_e(generated)}.</footer>
</body>
</html>
"""


def write_html(report: RunReport, path: Path | str) -> Path:
    """Write the scorecard to ``path`` (a file, or a folder to put report.html in); returns the file."""
    target = Path(path)
    if target.is_dir():
        target = target / HTML_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(report), encoding="utf-8")
    return target
