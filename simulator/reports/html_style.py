"""The scorecard's stylesheet, inlined into report.html so the file stands alone (no fonts, scripts or links)."""

CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --panel: #f6f8fa;
        --met: #1a7f37; --late: #9a6700; --missing: #cf222e; --fail: #cf222e; --pass: #1a7f37;
        --accent: #8250df; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; color: var(--fg); background: var(--bg);
       font: 14px/1.45 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 0; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
h3 { font-size: 15px; margin: 22px 0 8px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
                   font-size: 12.5px; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
      overflow-x: auto; white-space: pre-wrap; word-break: break-word; margin: 6px 0; }
header.run { border-bottom: 1px solid var(--line); padding-bottom: 16px; margin-bottom: 20px; }
.meta { color: var(--muted); margin: 4px 0; }
.meta span + span::before { content: " · "; }
.cards { display: flex; gap: 12px; margin-top: 14px; flex-wrap: wrap; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 160px;
        background: var(--panel); }
.card .value { font-size: 24px; font-weight: 600; }
.card .what { color: var(--muted); font-size: 12.5px; }
.badge { display: inline-block; border-radius: 999px; padding: 2px 10px; font-size: 12px; font-weight: 600;
         text-transform: uppercase; letter-spacing: .03em; color: #fff; vertical-align: middle; }
.badge.pass, .badge.met, .badge.held, .badge.ok { background: var(--met); }
.badge.fail, .badge.missing, .badge.broken, .badge.error, .badge.timeout { background: var(--missing); }
.badge.late { background: var(--late); }
.badge.neutral { background: var(--muted); }
nav.scenarios ul { list-style: none; padding: 0; margin: 0; display: flex; gap: 14px; flex-wrap: wrap; }
section.scenario { border: 1px solid var(--line); border-radius: 10px; padding: 18px 22px; margin: 20px 0; }
section.scenario.fail { border-left: 6px solid var(--fail); }
section.scenario.pass { border-left: 6px solid var(--pass); }
.verdict-line { font-weight: 600; margin: 8px 0 0; }
table { border-collapse: collapse; width: 100%; margin: 4px 0; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); font-weight: 600; font-size: 12.5px; color: var(--muted); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.params { min-width: 220px; max-width: 360px; word-break: break-all; font-size: 11.5px; }
td.why { min-width: 150px; max-width: 220px; }
td.call code { word-break: break-all; }
td.ids { min-width: 120px; }
.scroll { overflow-x: auto; }
td.ids { word-break: break-all; }
table.faults td, table.excerpt td { font-size: 13px; }
tr.late td:first-child, tr.missing td:first-child, tr.broken td:first-child { font-weight: 600; }
.empty { color: var(--muted); font-style: italic; margin: 4px 0; }
figure { margin: 0; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
.legend { display: flex; gap: 16px; flex-wrap: wrap; font-size: 12.5px; color: var(--muted); margin: 6px 0 0; }
.legend i { display: inline-block; width: 11px; height: 11px; border-radius: 50%; margin-right: 5px;
            vertical-align: -1px; }
svg.timeline { display: block; max-width: 1100px; border: 1px solid var(--line); border-radius: 8px;
               background: #fff; }
svg.timeline text { font: 12px -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
                    fill: #1f2328; }
svg.timeline text.sla-label, svg.timeline text.tick, svg.timeline text.level-label,
svg.timeline text.axis-title { font-size: 10.5px; fill: #59636e; }
svg.timeline text.missing { font-weight: 600; fill: #cf222e; }
details summary { cursor: pointer; color: var(--muted); }
footer { color: var(--muted); font-size: 12.5px; margin-top: 28px; border-top: 1px solid var(--line);
         padding-top: 10px; }
@media print { body { padding: 0; } section.scenario { break-inside: avoid-page; } }
"""
