"""Delivery chaos: which events reach the responder, when, how often and in what order.

:func:`plan_deliveries` turns the events GuardDuty publishes into a seeded plan (drops, delays,
duplicates, an aggregated update overtaking the original, bursts of updates);
:class:`PlanInjector` puts the planned events on the bus at their planned moments, from a thread, so
observation can start at once. Plan times are wall seconds from the plan's start, the moment the
first finding is published: SLAs run from publication, so a delayed delivery counts against them.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from simulator.chaos.profile import DeliveryChaos
from simulator.findings import aggregate_update, wrap_in_envelope
from simulator.findings.clock import parse_iso
from simulator.scenario.durations import format_duration

ORIGINAL, DELAYED, DUPLICATE, UPDATE, BURST = "original", "delayed", "duplicate", "update", "burst"


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    """One event to put on the bus ``at_seconds`` (wall) after the plan starts.

    ``published_seconds`` is when GuardDuty published it; ``kind`` says what chaos made of it
    (original, delayed, duplicate, update, burst) and ``note`` how, in runbook time.
    """

    at_seconds: float
    envelope: Mapping[str, Any]
    finding_id: str | None
    kind: str
    note: str = ""
    published_seconds: float = 0.0

    @property
    def finding(self) -> Mapping[str, Any]:
        detail = self.envelope.get("detail")
        return detail if isinstance(detail, Mapping) else {}


@dataclass(frozen=True)
class DeliveryPlan:
    """The events to inject, in order (iterate it), and the ones chaos dropped."""

    deliveries: tuple[PlannedDelivery, ...]
    dropped: tuple[PlannedDelivery, ...] = ()
    time_scale: float = 1.0

    def __iter__(self) -> Iterator[PlannedDelivery]:
        return iter(self.deliveries)

    def __len__(self) -> int:
        return len(self.deliveries)

    @property
    def span_seconds(self) -> float:
        """Wall seconds from the plan's start to its last delivery."""
        return max((item.at_seconds for item in self.deliveries), default=0.0)

    def of_finding(self, finding_id: str) -> list[PlannedDelivery]:
        return [item for item in self.deliveries if item.finding_id == finding_id]

    def lost(self) -> list[str]:
        """Findings published but never delivered, not even as an update."""
        delivered = {item.finding_id for item in self.deliveries}
        return list(dict.fromkeys(item.finding_id for item in self.dropped
                                  if item.finding_id and item.finding_id not in delivered))

    def anomalies(self) -> list[PlannedDelivery]:
        """Every planned delivery chaos touched, and every dropped one."""
        return [item for item in self.deliveries if item.kind != ORIGINAL] + list(self.dropped)

    def signature(self) -> list[tuple[str | None, str, float]]:
        """(finding id, kind, wall seconds): comparable between runs of the same seed."""
        return [(item.finding_id, item.kind, round(item.at_seconds, 6)) for item in self.deliveries] + [
            (item.finding_id, "dropped", round(item.at_seconds, 6)) for item in self.dropped]


def _finding_id(envelope: Mapping[str, Any]) -> str | None:
    detail = envelope.get("detail")
    value = detail.get("id") if isinstance(detail, Mapping) else None
    return value if isinstance(value, str) else None


def _fires(rng: random.Random, probability: float) -> bool:
    # Always draw, so one anomaly's odds never shift the draws of the next.
    draw = rng.random()
    return probability >= 1.0 or draw < probability


def _update_envelope(envelope: Mapping[str, Any], rng: random.Random, occurrences: int,
                     after_seconds: float) -> dict[str, Any]:
    """The event of an aggregated update of the envelope's finding, ``after_seconds`` later (runbook)."""
    finding = dict(envelope.get("detail") or {})
    at = None
    with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
        updated_at = datetime.fromtimestamp(parse_iso(finding["updatedAt"]) / 1000, UTC)
        at = updated_at + timedelta(seconds=max(1.0, after_seconds))
    updated = aggregate_update(finding, rng=rng, occurrences=occurrences, at=at)
    return wrap_in_envelope(updated, rng=rng)


def plan_deliveries(envelopes: Sequence[Mapping[str, Any]], chaos: DeliveryChaos, rng: random.Random,
                    time_scale: float, *, offsets: Sequence[float] | None = None) -> DeliveryPlan:
    """The seeded delivery plan for ``envelopes`` published at ``offsets`` (wall seconds, default all at 0).

    Profile durations are runbook time; the plan's times are wall time (divided by ``time_scale``).
    """
    if time_scale <= 0:
        raise ValueError("time_scale must be positive")
    if offsets is not None and len(offsets) != len(envelopes):
        raise ValueError("give one offset per envelope")
    wall = 1.0 / time_scale
    deliveries: list[PlannedDelivery] = []
    dropped: list[PlannedDelivery] = []
    for index, envelope in enumerate(envelopes):
        published = float(offsets[index]) if offsets is not None else 0.0
        fid = _finding_id(envelope)
        original = PlannedDelivery(published, envelope, fid, ORIGINAL, published_seconds=published)
        if chaos.delay and _fires(rng, chaos.delay.probability):
            runbook = chaos.delay.by + chaos.delay.jitter * rng.random()
            original = PlannedDelivery(published + runbook * wall, envelope, fid, DELAYED,
                                       f"delivered {format_duration(runbook)} after publication", published)
        if chaos.reorder and _fires(rng, chaos.reorder.probability):
            gap = chaos.reorder.gap
            update = _update_envelope(envelope, rng, chaos.reorder.occurrences, gap)
            deliveries.append(PlannedDelivery(original.at_seconds, update, fid, UPDATE,
                                              f"aggregated update ({chaos.reorder.occurrences} more occurrence(s)) "
                                              f"delivered {format_duration(gap)} before the original",
                                              original.at_seconds))
            original = PlannedDelivery(original.at_seconds + gap * wall, envelope, fid,
                                       original.kind if original.kind != ORIGINAL else DELAYED,
                                       (original.note + "; " if original.note else "")
                                       + f"overtaken by its update by {format_duration(gap)}", published)
        is_dropped = bool(chaos.drop and _fires(rng, chaos.drop.probability))
        if is_dropped:
            dropped.append(PlannedDelivery(original.at_seconds, envelope, fid, "dropped",
                                           "never delivered (dropped)", published))
        else:
            deliveries.append(original)
        if chaos.duplicate and _fires(rng, chaos.duplicate.probability) and not is_dropped:
            for copy in range(1, chaos.duplicate.copies + 1):
                after = chaos.duplicate.after * copy
                deliveries.append(PlannedDelivery(
                    original.at_seconds + after * wall, envelope, fid, DUPLICATE,
                    f"duplicate {copy} of {chaos.duplicate.copies}, {format_duration(after)} after the original",
                    published))
        if chaos.burst and _fires(rng, chaos.burst.probability):
            moments = sorted(rng.random() * chaos.burst.within for _ in range(chaos.burst.copies))
            for number, moment in enumerate(moments, start=1):
                update = _update_envelope(envelope, rng, number, moment)
                deliveries.append(PlannedDelivery(
                    original.at_seconds + moment * wall, update, fid, BURST,
                    f"update {number} of {chaos.burst.copies} in a burst, {format_duration(moment)} after the "
                    "original", original.at_seconds + moment * wall))
    order = sorted(range(len(deliveries)), key=lambda i: (deliveries[i].at_seconds, i))
    return DeliveryPlan(tuple(deliveries[i] for i in order), tuple(dropped), time_scale)


def plain_plan(envelopes: Sequence[Mapping[str, Any]], *, offsets: Sequence[float] | None = None,
               time_scale: float = 1.0) -> DeliveryPlan:
    """The plan without chaos: each event delivered once, when published."""
    return plan_deliveries(envelopes, DeliveryChaos(), random.Random(0), time_scale, offsets=offsets)


# ---------------------------------------------------------------- injecting a plan


@dataclass(slots=True)
class Delivered:
    planned: PlannedDelivery
    injection: Any  # simulator.delivery.Injection


@dataclass
class PlanInjector:
    """Injects a plan's events at their planned moments from a background thread.

    ``inject(envelope) -> Injection`` puts one event on the bus (``simulator.delivery.inject_event``
    bound to a sandbox); ``on_publish(finding)`` is told of each finding state as GuardDuty publishes
    it, dropped ones included (e.g. ``gateway.findings.add``: the findings API has them either way).
    """

    plan: DeliveryPlan
    inject: Callable[[Mapping[str, Any]], Any]
    on_publish: Callable[[Mapping[str, Any]], Any] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    delivered: list[Delivered] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    started_mono: float | None = None
    started_wall: float | None = None
    _thread: threading.Thread | None = None
    # stop() ends this injector only: ``cancel`` may be shared by every run of a process (run --all, game days).
    _stopped: threading.Event = field(default_factory=threading.Event)

    def start(self) -> float:
        """Start injecting; returns the plan's start (``time.monotonic()``), the moment SLAs run from."""
        self.started_wall = time.time()
        self.started_mono = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="gdsim-chaos-injector", daemon=True)
        self._thread.start()
        return self.started_mono

    def run(self) -> float:
        """Inject the whole plan in the calling thread; returns the plan's start."""
        self.started_wall = time.time()
        self.started_mono = time.monotonic()
        self._run()
        return self.started_mono

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the last delivery; True when the plan is done."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self) -> None:
        self._stopped.set()

    def _ended(self, wait: float = 0.0) -> bool:
        """Whether the caller cancelled or the injector was stopped, waiting up to ``wait`` seconds for it."""
        deadline = time.monotonic() + wait
        while True:
            if self.cancel.is_set() or self._stopped.is_set():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._stopped.wait(min(remaining, 0.05))

    def injected_mono(self, finding_id: str) -> float | None:
        """When the first event of ``finding_id`` went on the bus."""
        return next((item.injection.mono for item in self.delivered if item.planned.finding_id == finding_id), None)

    def _timeline(self) -> list[tuple[float, int, PlannedDelivery]]:
        # Publications (a finding state reaching GuardDuty's API) come before deliveries at the same moment,
        # and of two states published at once the later update comes last, so the API ends with it.
        moments = [(item.published_seconds, 0, item) for item in (*self.plan.deliveries, *self.plan.dropped)
                   if item.kind != DUPLICATE]
        moments += [(item.at_seconds, 1, item) for item in self.plan.deliveries]
        return sorted(moments, key=lambda moment: (moment[0], moment[1], str(moment[2].finding.get("updatedAt", ""))
                                                   if moment[1] == 0 else ""))

    def _run(self) -> None:
        assert self.started_mono is not None
        for at_seconds, what, item in self._timeline():
            wait = self.started_mono + at_seconds - time.monotonic()
            if self._ended(max(0.0, wait)):
                return
            try:
                if what == 0:
                    if self.on_publish is not None:
                        self.on_publish(item.finding)
                    continue
                self.delivered.append(Delivered(item, self.inject(item.envelope)))
            except Exception as error:  # one refused event must not stop the rest of the plan
                self.errors.append(f"{item.kind} delivery of finding {item.finding_id} failed: {error}")
