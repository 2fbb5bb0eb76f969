"""The scorecard's timeline as inline SVG: injection, invocations, API calls, each step's effect against its SLA
marker, and each page against its escalation level's due time.

The time axis is logarithmic (runbook time from injection): a responder acts in seconds while SLAs run to hours,
and both must be readable on one axis.
"""

from __future__ import annotations

import math
from html import escape

from simulator.reports.table import format_runbook
from simulator.reports.timeline import Timeline, TimelineEvent
from simulator.verdicts.model import LATE, MET

WIDTH = 1100
LABEL_WIDTH = 230
RIGHT_MARGIN = 90  # room for "missing" and the last tick's label
ROW_HEIGHT = 30
TOP = 12
AXIS_HEIGHT = 44
MIN_TICK_GAP = 52
_TICKS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 2700, 3600, 7200, 14400, 21600, 43200, 86400)

COLOURS = {
    MET: "#1a7f37", LATE: "#bf8700", "missing": "#cf222e", "page": "#8250df", "fault": "#bf3989",
    "api_error": "#cf222e", "call": "#8c959f", "invocation": "#0969da", "injection": "#24292f",
    "sla": "#57606a", "band": "#dafbe1", "grid": "#d0d7de", "level": "#8250df",
}
_OUTCOME_COLOURS = {"ok": COLOURS["invocation"], "error": COLOURS["api_error"], "timeout": COLOURS[LATE]}


class Axis:
    """Runbook seconds -> x pixels on a log(1 + t/k) scale."""

    def __init__(self, horizon: float, left: float = LABEL_WIDTH, right: float = WIDTH - RIGHT_MARGIN) -> None:
        self.horizon = max(horizon, 1.0)
        self.left, self.right = left, right
        self.knee = max(self.horizon / 500, 0.5)  # below the knee the scale is close to linear

    def x(self, seconds: float) -> float:
        t = min(max(seconds, 0.0), self.horizon)
        return self.left + (self.right - self.left) * math.log1p(t / self.knee) / math.log1p(self.horizon / self.knee)

    def ticks(self) -> list[float]:
        kept = [0.0]
        for tick in _TICKS:
            if tick <= self.horizon and self.x(tick) - self.x(kept[-1]) >= MIN_TICK_GAP:
                kept.append(float(tick))
        return kept


def _tick_label(seconds: float) -> str:
    if seconds == 0:
        return "0"
    whole = round(seconds)
    if whole % 3600 == 0:
        return f"{whole // 3600}h"
    if whole % 60 == 0:
        return f"{whole // 60}m"
    return f"{whole}s"


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>"


def _label(y: float, text: str, css: str = "lane") -> str:
    return (f'<text class="{css}" x="{LABEL_WIDTH - 10}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(text)}</text>")


def _lane_rule(y: float, axis: Axis) -> str:
    return (f'<line x1="{axis.left}" y1="{y:.1f}" x2="{axis.right}" y2="{y:.1f}" '
            f'stroke="{COLOURS["grid"]}" stroke-width="1"/>')


def _injections(events: list[TimelineEvent], y: float, axis: Axis) -> list[str]:
    parts = [_label(y, "finding injected")]
    for event in events:
        x = axis.x(event.at_seconds)
        parts.append(f'<path class="injection" d="M{x:.1f} {y - 7:.1f} L{x + 7:.1f} {y:.1f} L{x:.1f} {y + 7:.1f} '
                     f'L{x - 7:.1f} {y:.1f} Z" fill="{COLOURS["injection"]}">'
                     f"{_title(f'{event.label} at {format_runbook(event.at_seconds)}')}</path>")
    return parts


def _invocations(events: list[TimelineEvent], y: float, axis: Axis) -> list[str]:
    parts = [_label(y, "responder invoked")]
    for event in events:
        x0 = axis.x(event.at_seconds)
        x1 = max(axis.x(event.end_seconds if event.end_seconds is not None else event.at_seconds), x0 + 3)
        colour = _OUTCOME_COLOURS.get(event.detail or "ok", COLOURS["invocation"])
        ends = f" to {format_runbook(event.end_seconds)}" if event.end_seconds is not None else ""
        parts.append(f'<rect class="invocation" x="{x0:.1f}" y="{y - 6:.1f}" width="{x1 - x0:.1f}" height="12" '
                     f'rx="3" fill="{colour}" fill-opacity="0.75">'
                     f"{_title(f'{event.label}: {format_runbook(event.at_seconds)}{ends}')}</rect>")
    return parts


def _calls(timeline: Timeline, y: float, axis: Axis) -> list[str]:
    calls = timeline.of_kind("call")
    parts = [_label(y, f"API calls ({len(calls)})")]
    for event in calls:
        x = axis.x(event.at_seconds)
        parts.append(f'<line class="call" x1="{x:.1f}" y1="{y - 6:.1f}" x2="{x:.1f}" y2="{y + 6:.1f}" '
                     f'stroke="{COLOURS["call"]}" stroke-width="1.5">'
                     f"{_title(f'{event.label} at {format_runbook(event.at_seconds)}')}</line>")
    for event in timeline.of_kind("api_error") + timeline.of_kind("fault"):
        x = axis.x(event.at_seconds)
        colour = COLOURS[event.kind]
        parts.append(f'<path class="{event.kind}" d="M{x:.1f} {y - 11:.1f} L{x + 5:.1f} {y - 3:.1f} '
                     f'L{x - 5:.1f} {y - 3:.1f} Z" fill="{colour}">'
                     f"{_title(f'{event.label} at {format_runbook(event.at_seconds)}')}</path>")
    return parts


def _step(mark_index: int, timeline: Timeline, y: float, axis: Axis) -> list[str]:
    mark = timeline.steps[mark_index]
    sla_x = axis.x(mark.sla_seconds)
    colour = COLOURS.get(mark.verdict, COLOURS["missing"])
    sla_text = mark.sla_text or format_runbook(mark.sla_seconds)
    parts = [
        f'<g class="step" data-step="{escape(mark.step_id)}" data-verdict="{escape(mark.verdict)}">',
        _label(y, mark.step_id),
        f'<rect class="within-sla" x="{axis.left}" y="{y - 8:.1f}" width="{max(sla_x - axis.left, 0):.1f}" '
        f'height="16" fill="{COLOURS["band"]}">{_title(f"{mark.step_id}: SLA {sla_text}")}</rect>',
        f'<line class="sla" x1="{sla_x:.1f}" y1="{y - 11:.1f}" x2="{sla_x:.1f}" y2="{y + 11:.1f}" '
        f'stroke="{COLOURS["sla"]}" stroke-width="2" stroke-dasharray="4 2"/>',
        f'<text class="sla-label" x="{sla_x + 4:.1f}" y="{y - 10:.1f}">SLA {escape(sla_text)}</text>',
    ]
    if mark.observed_seconds is not None:
        x = axis.x(mark.observed_seconds)
        parts.append(f'<line x1="{axis.left}" y1="{y:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="{colour}" '
                     f'stroke-width="2"/>')
        tip = f"{mark.step_id}: {mark.verdict} at {format_runbook(mark.observed_seconds)} (SLA {sla_text})"
        parts.append(f'<circle class="effect" cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{colour}">{_title(tip)}</circle>')
    else:
        # Still not done after its SLA, for as long as it was watched.
        until = timeline.observed_until_seconds or timeline.horizon_seconds
        if until > mark.sla_seconds:
            parts.append(f'<line class="overdue" x1="{sla_x:.1f}" y1="{y:.1f}" x2="{axis.x(until):.1f}" y2="{y:.1f}" '
                         f'stroke="{colour}" stroke-width="2" stroke-dasharray="3 3"/>')
        parts.append(f'<text class="missing" x="{axis.right + 6}" y="{y + 4:.1f}" fill="{colour}">'
                     f"✕ missing{_title(f'{mark.step_id}: never observed (SLA {sla_text})')}</text>")
    parts.append("</g>")
    return parts


def _pages(timeline: Timeline, y: float, axis: Axis) -> list[str]:
    pages = timeline.of_kind("page")
    parts = [_label(y, f"pages ({len(pages)})")]
    for mark in timeline.escalation:
        x = axis.x(mark.after_seconds)
        due = format_runbook(mark.after_seconds)
        parts.append(f'<path class="level-due" d="M{x:.1f} {y + 12:.1f} L{x + 5:.1f} {y + 4:.1f} L{x - 5:.1f} '
                     f'{y + 4:.1f} Z" fill="none" stroke="{COLOURS["level"]}" stroke-width="1.5">'
                     f"{_title(f'level {mark.level} ({mark.contact}) due at {due}')}</path>")
        parts.append(f'<text class="level-label" x="{x + 6:.1f}" y="{y + 13:.1f}">L{mark.level}</text>')
    for event in pages:
        x = axis.x(event.at_seconds)
        parts.append(f'<circle class="page" cx="{x:.1f}" cy="{y - 2:.1f}" r="5" fill="{COLOURS["page"]}">'
                     f"{_title(f'{event.label} at {format_runbook(event.at_seconds)}')}</circle>")
    return parts


def _axis(timeline: Timeline, y: float, top: float, axis: Axis) -> list[str]:
    parts = [f'<line x1="{axis.left}" y1="{y:.1f}" x2="{axis.right}" y2="{y:.1f}" stroke="#57606a"/>']
    for tick in axis.ticks():
        x = axis.x(tick)
        parts.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="{COLOURS["grid"]}" '
                     f'stroke-dasharray="2 3"/>')
        parts.append(f'<text class="tick" x="{x:.1f}" y="{y + 16:.1f}" text-anchor="middle">'
                     f"{_tick_label(tick)}</text>")
    if timeline.observed_until_seconds is not None:
        x = axis.x(timeline.observed_until_seconds)
        parts.append(f'<line class="observed-until" x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{y:.1f}" '
                     f'stroke="#24292f" stroke-dasharray="6 3"/>')
        parts.append(f'<text class="tick" x="{x:.1f}" y="{y + 32:.1f}" text-anchor="middle">'
                     f"watched until {format_runbook(timeline.observed_until_seconds)}</text>")
    parts.append(f'<text class="axis-title" x="{LABEL_WIDTH - 10}" y="{y + 16:.1f}" text-anchor="end">'
                 "runbook time from injection</text>")
    return parts


def render_timeline_svg(timeline: Timeline, *, title: str = "timeline") -> str:
    """The timeline as one self-contained ``<svg>`` element."""
    axis = Axis(timeline.horizon_seconds)
    rows = 3 + len(timeline.steps) + (1 if timeline.escalation or timeline.of_kind("page") else 0)
    height = TOP + rows * ROW_HEIGHT + AXIS_HEIGHT
    y = TOP + ROW_HEIGHT / 2 + 6
    body: list[str] = []
    body += _injections(timeline.of_kind("injection"), y, axis)
    y += ROW_HEIGHT
    body += _invocations(timeline.of_kind("invocation"), y, axis)
    y += ROW_HEIGHT
    body += _calls(timeline, y, axis)
    for index in range(len(timeline.steps)):
        y += ROW_HEIGHT
        if index == 0:
            body.append(_lane_rule(y - ROW_HEIGHT / 2, axis))
        body += _step(index, timeline, y, axis)
    if timeline.escalation or timeline.of_kind("page"):
        y += ROW_HEIGHT
        body += _pages(timeline, y, axis)
    axis_y = y + ROW_HEIGHT / 2 + 4
    grid = _axis(timeline, axis_y, TOP, axis)
    return (f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
            f'width="100%" role="img" aria-label="{escape(title)}">' + _title(title) + "".join(grid + body) + "</svg>")
