"""gameday.html: the after-action report as one self-contained page (the scorecard's inline stylesheet, no
scripts, no links out but the run's own report.html beside it)."""

from __future__ import annotations

from html import escape

from simulator.gameday.render import SUMMARY_HEADERS, ack_sentence, headline, margin_text, paging_sentence, summary_rows
from simulator.gameday.report import HANDLED, AfterActionReport, FindingReport
from simulator.reports import PASS, format_runbook
from simulator.reports.html_style import CSS
from simulator.reports.redact import redact_text

_EXTRA_CSS = """
.badge.escalated { background: var(--accent); }
.badge.interrupted, .badge.not-injected { background: var(--muted); }
section.scenario.escalated { border-left: 6px solid var(--accent); }
section.scenario.not-injected { border-left: 6px solid var(--muted); }
"""


def _e(value: object) -> str:
    return escape(redact_text("" if value is None else str(value)))


def _css_class(outcome: str) -> str:
    return {"within SLA": "pass", "escalated": "escalated", "not injected": "not-injected"}.get(outcome, "fail")


def _badge(text: str, css: str) -> str:
    return f'<span class="badge {css}">{_e(text)}</span>'


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(rows_cells) + "</tr>" for rows_cells in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _finding(finding: FindingReport) -> str:
    css = _css_class(finding.outcome)
    steps = _table(["step", "what", "SLA", "observed", "margin", "verdict"], [
        [f"<td><code>{_e(s.id)}</code></td>", f"<td>{_e(s.title)}</td>",
         f'<td class="num">{_e(s.sla_text or format_runbook(s.sla_seconds))}</td>',
         f'<td class="num">{_e(format_runbook(s.observed_seconds))}</td>', f"<td>{_e(margin_text(s))}</td>",
         f"<td>{_badge(s.verdict, s.verdict)}</td>"] for s in finding.steps]) if finding.steps else ""
    injected = (f"injected at +{format_runbook(finding.injected_seconds)}" if finding.injected_seconds is not None
                else "not injected")
    meta = [finding.finding_type, f"finding {finding.finding_id or '-'}", injected,
            f"scheduled +{format_runbook(finding.scheduled_seconds)}", f"on-call: {finding.oncall}",
            f"seed {finding.seed}"] + ([f"chaos {finding.chaos}"] if finding.chaos else [])
    parts = [f'<section class="scenario {css}" id="{_e(finding.key)}">',
             f"<h2>{_e(finding.key)} <code>{_e(finding.scenario)}</code> {_badge(finding.outcome, css)}</h2>",
             '<p class="meta">' + "".join(f"<span>{_e(item)}</span>" for item in meta) + "</p>"]
    if finding.error:
        parts.append(f'<p class="verdict-line">Error: {_e(finding.error)}</p>')
    if finding.cut_short:
        parts.append("<p><em>Observation was cut short by the interruption.</em></p>")
    if steps:
        parts += [f"<h3>Steps (detected after {_e(format_runbook(finding.detect_seconds))})</h3>", steps]
    paging = paging_sentence(finding)
    if paging:
        parts += ["<h3>Escalation</h3>", f"<p>{_e(paging)}</p>",
                  f"<p>{_e(ack_sentence(finding.acknowledgement, finding))}</p>"]
    if finding.invariants_broken:
        parts += ["<h3>Invariants broken</h3>", "<ul>" + "".join(f"<li>{_e(text)}</li>"
                                                                  for text in finding.invariants_broken) + "</ul>"]
    if finding.repro:
        parts += ["<h3>Reproduce</h3>", f'<pre class="repro"><code>{_e(finding.repro)}</code></pre>']
    return "\n".join(parts) + "\n</section>"


def render_html(report: AfterActionReport, *, run_report: str | None = None) -> str:
    verdict = "interrupted" if report.interrupted else report.verdict
    css = "interrupted" if report.interrupted else ("pass" if report.verdict == PASS else "fail")
    summary = _table(SUMMARY_HEADERS, [[f"<td>{_e(cell)}</td>" for cell in row] for row in summary_rows(report)])
    cards = [(f"{report.handled} / {len(report.findings)}", "findings handled"),
             (str(sum(1 for f in report.findings if f.outcome == "within SLA")), "within SLA"),
             (str(sum(1 for f in report.findings if f.outcome == "escalated")), "escalated"),
             (str(sum(1 for f in report.findings if f.outcome not in HANDLED)), "missed, failed or not injected")]
    cards_html = '<div class="cards">' + "".join(
        f'<div class="card"><div class="value">{_e(value)}</div><div class="what">{_e(what)}</div></div>'
        for value, what in cards) + "</div>"
    link = (f'<p>Every scenario\'s timeline, steps, invariants and API journal: '
            f'<a href="{_e(run_report)}">{_e(run_report)}</a></p>') if run_report else ""
    banner = ("<p><strong>Interrupted:</strong> the game day was stopped before its end; this report holds what "
              "was seen until then.</p>") if report.interrupted else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gdsim after-action report: {_e(report.name)} ({_e(verdict.upper())})</title>
<style>{CSS}{_EXTRA_CSS}</style>
</head>
<body>
<header class="run" data-verdict="{_e(verdict)}">
<h1>After-action report: {_e(report.name)} {_badge(verdict, css)}</h1>
<p class="meta"><span>plan {_e(report.plan)}</span><span>run <code>{_e(report.run_id)}</code></span>
<span>seed {_e(report.seed)}</span><span>time scale {report.time_scale:g}x</span>
<span>started {_e(report.started_at)}</span></p>
<p>{_e(headline(report))}</p>
{banner}
{cards_html}
</header>
<main>
{summary}
{"".join(_finding(finding) for finding in report.findings)}
{link}
</main>
<footer>Times are runbook time: a finding's from its injection, "in at" from the start of the game day; wall time
is runbook time divided by the time scale. Secrets in details are shown as [redacted].</footer>
</body>
</html>
"""
