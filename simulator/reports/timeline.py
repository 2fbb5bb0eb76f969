"""What happened when, in runbook time from injection: the data behind the scorecard's timeline and excerpts.

Everything here is computed from what a run already has: the step verdicts, the gateway journal, the responder's
invocations and the moment of injection. Request parameters and logs are redacted as they are copied.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from simulator.reports.redact import redact_text, redact_value
from simulator.verdicts.model import LATE, MET, MISSING, Invariant, StepVerdict

EXCERPT_LIMIT = 60  # journal lines kept around misses
NEIGHBOURS = 2  # calls shown either side of the one a late step was dated by
LAST_CALLS = 8  # calls shown before a missing step's deadline
INVOCATION_LIMIT = 20
LOG_TAIL_CHARS = 2000
PARAMS_CHARS = 600
CALL_LIMIT = 2000  # API calls drawn on a timeline

LabelOf = Callable[[str], str | None]


@dataclass(frozen=True)
class StepMark:
    """One runbook step on the timeline: its SLA marker and, if it was observed, the effect."""

    step_id: str
    title: str
    sla_seconds: float
    sla_text: str
    observed_seconds: float | None
    verdict: str


@dataclass(frozen=True)
class EscalationMark:
    """When a level of the escalation path is due to be paged (runbook seconds from injection)."""

    level: int
    contact: str
    after_seconds: float


@dataclass(frozen=True)
class TimelineEvent:
    """Something that happened: ``kind`` is injection, invocation, page, fault, api_error or call."""

    kind: str
    label: str
    at_seconds: float
    end_seconds: float | None = None  # invocations: when the handler returned
    level: int | None = None  # pages
    detail: str | None = None


@dataclass(frozen=True)
class Timeline:
    time_scale: float
    # False when the injection moment was taken from the first delivery (a few ms after the real one).
    injection_exact: bool
    steps: list[StepMark] = field(default_factory=list)
    events: list[TimelineEvent] = field(default_factory=list)
    escalation: list[EscalationMark] = field(default_factory=list)
    observed_until_seconds: float | None = None

    @property
    def horizon_seconds(self) -> float:
        """The right end of the time axis: past the last SLA, page, event and the end of observation."""
        ends = [mark.sla_seconds for mark in self.steps]
        ends += [mark.observed_seconds for mark in self.steps if mark.observed_seconds is not None]
        ends += [event.end_seconds or event.at_seconds for event in self.events]
        ends += [mark.after_seconds for mark in self.escalation]
        if self.observed_until_seconds is not None:
            ends.append(self.observed_until_seconds)
        return max([*ends, 1.0]) * 1.05

    def of_kind(self, kind: str) -> list[TimelineEvent]:
        return [event for event in self.events if event.kind == kind]


@dataclass(frozen=True)
class JournalLine:
    """One gateway journal entry as a report prints it, with why it was picked."""

    seq: int
    at_seconds: float | None
    service: str
    operation: str
    caller: str
    resource_ids: tuple[str, ...]
    status: int
    error_code: str | None
    fault: str | None
    params: str  # redacted JSON, shortened
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class InvocationLine:
    """One responder invocation as a report prints it."""

    request_id: str
    attempt: int
    cold: bool
    outcome: str
    at_seconds: float | None
    duration_ms: float | None
    error: str | None
    logs: str  # redacted, the tail only


def _get(record: Any, name: str, default: Any = None) -> Any:
    if isinstance(record, Mapping):
        return record.get(name, default)
    return getattr(record, name, default)


def injection_moment(injected_mono: float | None, invocations: Iterable[Any]) -> tuple[float | None, bool]:
    """(monotonic time of injection, exact?): the runner's own reading, else the first delivery's."""
    if injected_mono is not None:
        return injected_mono, True
    starts = [_get(record, "received_mono") or _get(record, "started_mono") for record in invocations]
    known = [value for value in starts if isinstance(value, int | float)]
    return (min(known), False) if known else (None, False)


def _runbook(mono: float | None, injected: float | None, time_scale: float) -> float | None:
    if mono is None or injected is None:
        return None
    return round((mono - injected) * time_scale, 6)


def _page_level(entry: Any, topic: str | None) -> int | None:
    if entry.service != "sns" or entry.operation not in ("Publish", "PublishBatch"):
        return None
    arn = str(entry.params.get("TopicArn", ""))
    if topic and not arn.rsplit(":", 1)[-1].endswith(topic):
        return None
    from simulator.observers.notify import published_page_fields

    level, _finding = published_page_fields(entry.params)
    return level


def _caller(entry: Any, label_of: LabelOf | None) -> str:
    label = label_of(entry.caller) if label_of and entry.caller else None
    return label or entry.caller or "-"


def build_timeline(*, scenario: Any, steps: Sequence[StepVerdict], entries: Sequence[Any],
                   invocations: Sequence[Any], injected_mono: float | None, time_scale: float,
                   observed_for_wall_seconds: float | None = None) -> Timeline | None:
    """The scenario's timeline, or None when the moment of injection is unknown."""
    injected, exact = injection_moment(injected_mono, invocations)
    if injected is None:
        return None
    marks = [StepMark(step.id, step.title, step.sla_seconds, step.sla_text, step.observed_seconds, step.verdict)
             for step in steps]
    events: list[TimelineEvent] = []
    delay = 0.0
    for spec in getattr(scenario, "findings", None) or []:
        delay += float(getattr(spec, "delay_seconds", 0.0) or 0.0)
        events.append(TimelineEvent("injection", f"inject {spec.type}", delay))
    if not events:
        events.append(TimelineEvent("injection", "inject finding", 0.0))
    for record in invocations:
        start = _runbook(_get(record, "started_mono"), injected, time_scale)
        if start is None:
            continue
        outcome = str(_get(record, "outcome", "ok"))
        warmth = "cold" if _get(record, "cold", False) else "warm"
        events.append(TimelineEvent(
            "invocation", f"invocation {_get(record, 'attempt', 1)} ({warmth}): {outcome}", start,
            end_seconds=_runbook(_get(record, "ended_mono"), injected, time_scale), detail=outcome))
    escalation = getattr(scenario, "escalation", None)
    topic = getattr(escalation, "topic", None)
    for entry in entries[:CALL_LIMIT]:
        at = _runbook(entry.mono, injected, time_scale)
        if at is None or at < 0:
            continue
        name = f"{entry.service}:{entry.operation}"
        level = _page_level(entry, topic)
        if level is not None and entry.ok:
            events.append(TimelineEvent("page", f"page level {level}", at, level=level))
        if entry.fault:
            events.append(TimelineEvent("fault", f"{name}: {entry.fault}", at, detail=entry.fault))
        elif not entry.ok:
            events.append(TimelineEvent("api_error", f"{name}: {entry.error_code or entry.status}", at))
        events.append(TimelineEvent("call", name, at))
    levels = [EscalationMark(level.level, level.contact, float(level.after_seconds))
              for level in (getattr(escalation, "levels", None) or [])]
    until = observed_for_wall_seconds * time_scale if observed_for_wall_seconds is not None else None
    return Timeline(time_scale=time_scale, injection_exact=exact, steps=marks, events=events,
                    escalation=levels, observed_until_seconds=until)


def _params_text(params: Mapping[str, Any]) -> str:
    text = json.dumps(redact_value(dict(params)), default=str, sort_keys=True)
    return text if len(text) <= PARAMS_CHARS else text[:PARAMS_CHARS - 1] + "…"


def journal_line(entry: Any, *, injected_mono: float | None, time_scale: float, label_of: LabelOf | None = None,
                 reasons: Iterable[str] = ()) -> JournalLine:
    return JournalLine(
        seq=entry.seq, at_seconds=_runbook(entry.mono, injected_mono, time_scale), service=entry.service,
        operation=entry.operation, caller=_caller(entry, label_of), resource_ids=tuple(entry.resource_ids),
        status=entry.status, error_code=entry.error_code, fault=entry.fault, params=_params_text(entry.params),
        reasons=merge_reasons(reasons),
    )


def merge_reasons(reasons: Iterable[str]) -> tuple[str, ...]:
    """"near late step: a", "near late step: b" -> "near late step: a, b" (first-seen order)."""
    merged: dict[str, list[str]] = {}
    for reason in reasons:
        category, sep, subject = reason.partition(": ")
        subjects = merged.setdefault(category if sep else reason, [])
        if sep and subject not in subjects:
            subjects.append(subject)
    return tuple(f"{category}: {', '.join(subjects)}" if subjects else category
                 for category, subjects in merged.items())


def _causing_operations(kind: str) -> frozenset[str]:
    from simulator.observers.registry import registered_kinds

    spec = registered_kinds().get(kind)
    return spec.observer.causing_operations if spec else frozenset()


def _closest(entries: Sequence[Any], mono: float, operation: str | None) -> int | None:
    candidates = [i for i, entry in enumerate(entries) if operation is None or entry.operation == operation]
    if not candidates:
        candidates = list(range(len(entries)))
    if not candidates:
        return None
    return min(candidates, key=lambda i: abs(entries[i].mono - mono))


def _pick_reasons(*, steps: Sequence[StepVerdict], invariants: Sequence[Invariant], entries: Sequence[Any],
                  injected: float | None, time_scale: float) -> dict[int, list[str]]:
    """Index in ``entries`` -> why it belongs in the excerpt."""
    picked: dict[int, list[str]] = {}

    def pick(index: int, reason: str) -> None:
        if 0 <= index < len(entries):
            picked.setdefault(index, []).append(reason)

    for index, entry in enumerate(entries):
        if entry.fault:
            pick(index, f"fault: {entry.fault}")
        elif not entry.ok:
            pick(index, f"error: {entry.error_code or entry.status}")
    for step in steps:
        if step.verdict == LATE and injected is not None and step.observed_wall_seconds is not None:
            anchor = _closest(entries, injected + step.observed_wall_seconds, step.operation)
            if anchor is not None:
                for index in range(anchor - NEIGHBOURS, anchor + NEIGHBOURS + 1):
                    pick(index, f"near late step: {step.id}" if index != anchor else f"dated late step: {step.id}")
        elif step.verdict == MISSING:
            causing = _causing_operations(step.kind)
            attempts = [i for i, entry in enumerate(entries) if entry.operation in causing]
            for index in attempts:
                pick(index, f"attempt at missing step: {step.id}")
            if not attempts and injected is not None:
                deadline = injected + step.sla_seconds / time_scale
                before = [i for i, entry in enumerate(entries) if entry.mono <= deadline][-LAST_CALLS:]
                for index in before:
                    pick(index, f"before missing step's SLA: {step.id}")
    for invariant in invariants:
        if invariant.held:
            continue
        named = " ".join([invariant.detail, *invariant.violations])
        for index, entry in enumerate(entries):
            if entry.mutating and any(rid and rid in named for rid in entry.resource_ids):
                pick(index, f"invariant broken: {invariant.id}")
    return picked


def journal_excerpt(*, steps: Sequence[StepVerdict], invariants: Sequence[Invariant], entries: Sequence[Any],
                    injected_mono: float | None, time_scale: float, label_of: LabelOf | None = None,
                    limit: int = EXCERPT_LIMIT) -> list[JournalLine]:
    """The journal around what went wrong: failed and faulted calls, the calls near each late step, the attempts
    at (or the last calls before) each missing step, and the mutating calls a broken invariant names. Empty when
    nothing went wrong."""
    failing = any(step.verdict != MET for step in steps) or any(not inv.held for inv in invariants)
    picked = _pick_reasons(steps=steps, invariants=invariants, entries=entries, injected=injected_mono,
                           time_scale=time_scale)
    if failing and not picked and entries:
        picked = {index: ["last calls of the run"] for index in range(max(0, len(entries) - LAST_CALLS),
                                                                      len(entries))}
    chosen = sorted(picked)[:limit]
    return [journal_line(entries[index], injected_mono=injected_mono, time_scale=time_scale, label_of=label_of,
                         reasons=picked[index]) for index in chosen]


def fault_lines(entries: Sequence[Any], *, injected_mono: float | None, time_scale: float,
                label_of: LabelOf | None = None, limit: int = EXCERPT_LIMIT) -> list[JournalLine]:
    """Every call a chaos fault was injected into (the first ``limit``)."""
    return [journal_line(entry, injected_mono=injected_mono, time_scale=time_scale, label_of=label_of,
                         reasons=(f"fault: {entry.fault}",))
            for entry in entries if entry.fault][:limit]


def _error_text(error: Any) -> str | None:
    if not error:
        return None
    if isinstance(error, Mapping):
        kind = error.get("errorType") or error.get("type") or "Error"
        message = error.get("errorMessage") or error.get("message") or ""
        return redact_text(f"{kind}: {message}".strip())
    return redact_text(str(error))


def invocation_lines(invocations: Sequence[Any], *, injected_mono: float | None, time_scale: float,
                     limit: int = INVOCATION_LIMIT) -> list[InvocationLine]:
    lines = []
    for record in list(invocations)[:limit]:
        started, ended = _get(record, "started_mono"), _get(record, "ended_mono")
        duration = (ended - started) * 1000 if isinstance(started, int | float) and isinstance(ended, int | float) \
            else None
        logs = str(_get(record, "logs", "") or "")
        if len(logs) > LOG_TAIL_CHARS:
            logs = "…" + logs[-LOG_TAIL_CHARS:]
        lines.append(InvocationLine(
            request_id=str(_get(record, "request_id", "")), attempt=int(_get(record, "attempt", 1) or 1),
            cold=bool(_get(record, "cold", False)), outcome=str(_get(record, "outcome", "ok")),
            at_seconds=_runbook(started, injected_mono, time_scale),
            duration_ms=round(duration, 3) if duration is not None else None,
            error=_error_text(_get(record, "error")), logs=redact_text(logs),
        ))
    return lines


def to_data(value: Any) -> Any:
    """Timeline records as JSON-ready data (for report.json)."""
    if value is None:
        return None
    if isinstance(value, list):
        return [to_data(item) for item in value]
    data = asdict(value)
    if isinstance(value, Timeline):
        data["horizon_seconds"] = value.horizon_seconds
    return data
