"""Storm mode: one scenario fanned out over many resources, N findings a second for T seconds.

The scenario's first finding is bound to copies of its resource (an instance or a user): one per
finding up to DEFAULT_RESOURCES by default, then several findings per copy. Findings are published at a
steady rate (wall time) and delivered to the responder as in a normal run, under a chaos profile if
one is given. Each step of each finding is dated by the responder's last successful call that causes
it, made while it handled that finding (the function runtime runs one event at a time, so a call
belongs to the invocation it falls in), and confirmed at the end by the step's observer (for every
finding, or for a sample of a large storm plus every step the journal has no evidence for). The
report gives per-step latency percentiles against the SLA, the backlog, throughput, the findings that
ended neither remediated nor escalated, the invariants, and the harness's own cost per finding (CPU,
injection, memory).

The harness's memory stays flat in the number of findings: findings are kept compressed, the journal and
the responder's invocations are folded into per-finding figures as they come and then forgotten
(:mod:`simulator.chaos.storm_ledger`), observers are prepared once per resource copy and built per finding
only while needed (:mod:`simulator.chaos.storm_observers`), and effects are confirmed a chunk of findings
at a time with one batched read of the sandbox per chunk (:mod:`simulator.chaos.storm_confirm`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.chaos.delivery import DeliveryPlan
from simulator.chaos.profile import ChaosProfile
from simulator.chaos.storm_confirm import Confirmations, confirm_effects
from simulator.chaos.storm_findings import generate_storm_findings
from simulator.chaos.storm_ledger import StormLedger
from simulator.chaos.storm_observers import StormObservers
from simulator.chaos.storm_report import StepStats, StormReport, backlog, percentile, render_storm
from simulator.errors import InputError, UsageError
from simulator.runner import LATE_WINDOW_FACTOR, RunOptions, deferred_interrupts
from simulator.scenario import Instance, Scenario
from simulator.session import open_session
from simulator.verdicts.model import LATE, MET, MISSING, Invariant, StepVerdict
from simulator.verdicts.sla import classify

FAN_OUT_KINDS = ("instance", "user")
# Copies of the finding's resource when not told: the embedded emulator slows down as it fills up, so a
# storm of thousands of findings is spread over a fleet of this size (several findings per resource).
DEFAULT_RESOURCES = 50
# The emulator answers on one core: more threads only queue there (and time out).
CHECK_WORKERS = 2
MAX_FINDINGS = 100_000
VERIFY_MODES = ("auto", "all", "sample")
# Each observer check costs a few emulator calls that slow down as the sandbox fills up.
AUTO_VERIFY_ALL = 200
# How often the journal and the invocations are folded in while the storm runs (wall seconds).
FOLD_SECONDS = 0.5


@dataclass(frozen=True)
class StormOptions:
    rate: float  # findings published per wall second
    duration: float  # wall seconds of publishing
    resources: int | None = None  # copies of the finding's resource; default one per finding, at most 50
    # Which effects the observers confirm at the end: "all", a "sample" (plus every step the journal
    # has no evidence for), or "auto" (all up to AUTO_VERIFY_ALL findings, else a sample).
    verify: str = "auto"
    sample: int = 50

    @property
    def count(self) -> int:
        return max(1, round(self.rate * self.duration))

    def check(self) -> None:
        if not self.rate > 0:
            raise UsageError(f"--rate {self.rate:g}: must be a positive number of findings per second")
        if not self.duration > 0:
            raise UsageError(f"--duration {self.duration:g}: must be a positive number of seconds")
        if self.count > MAX_FINDINGS:
            raise UsageError(f"--rate x --duration is {self.count} findings; at most {MAX_FINDINGS}")
        if self.resources is not None and self.resources < 1:
            raise UsageError(f"--resources {self.resources}: must be 1 or more")
        if self.verify not in VERIFY_MODES:
            raise UsageError(f"--verify {self.verify!r}: use one of {', '.join(VERIFY_MODES)}")
        if self.sample < 1:
            raise UsageError(f"--sample {self.sample}: must be 1 or more")

    def verifies_all(self) -> bool:
        return self.verify == "all" or (self.verify == "auto" and self.count <= AUTO_VERIFY_ALL)


# ---------------------------------------------------------------- fan-out


def fan_out(scenario: Scenario, copies: int) -> tuple[Scenario, list[str]]:
    """The scenario with its first finding's resource copied ``copies`` times (the original is copy 0),
    and the copies' logical names."""
    if copies < 1:
        raise ValueError("copies must be at least 1")
    name = scenario.findings[0].resource
    try:
        if not name:
            raise KeyError(name)
        kind, model = scenario.environment.get(name)
    except KeyError:
        raise InputError(f"the first finding names no resource of the environment ({name!r})",
                         field="findings[0].resource", fix="bind it to an instance or a user") from None
    if kind not in FAN_OUT_KINDS:
        raise InputError(f"a storm fans out instances or users, not the {kind} {name!r}",
                         field="findings[0].resource", fix="bind the first finding to an instance or a user")
    if isinstance(model, Instance):
        room = subnet_room(scenario, model)
        if copies - 1 > room:
            raise UsageError(f"--resources {copies}: subnet {model.subnet!r} of {name!r} has addresses for "
                             f"{room + 1} copies")
    taken = {item.name for _, item in scenario.environment.resources()}
    width = len(str(copies))
    names = [name]
    for index in range(1, copies):
        clone = f"{name[:40 - width - 1]}-{index:0{width}d}"
        if clone in taken:
            raise InputError(f"cannot copy {name!r}: the environment already has {clone!r}",
                             field="environment", fix="rename that resource")
        names.append(clone)
    field_name = f"{kind}s"
    items = list(getattr(scenario.environment, field_name))
    items += [model.model_copy(update={"name": clone}) for clone in names[1:]]
    environment = scenario.environment.model_copy(update={field_name: items})
    return scenario.model_copy(update={"environment": environment}), names


def subnet_room(scenario: Scenario, instance: Instance) -> int:
    """How many more copies of ``instance`` its subnet has addresses for (AWS keeps 5 per subnet)."""
    subnet = next(item for item in scenario.environment.subnets if item.name == instance.subnet)
    used = sum(1 + item.extra_interfaces for item in scenario.environment.instances if item.subnet == subnet.name)
    free = ipaddress.ip_network(subnet.cidr).num_addresses - 5 - used
    return max(0, free // (1 + instance.extra_interfaces))


# ---------------------------------------------------------------- measuring


def _rss_mb(key: str) -> float | None:
    """VmRSS or VmHWM (peak) of this process in MB, where /proc has it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class _ObserverCalls:
    """Counts the observers' own calls to the sandbox by phase (prepare, storm, confirm)."""

    SERVICES = ("ec2", "iam", "sns", "sqs")

    def __init__(self, sandbox: Any) -> None:
        from simulator.observers.clients import sandbox_client

        self.phase = "prepare"
        self.counts: dict[str, dict[str, int]] = {phase: {} for phase in ("prepare", "storm", "confirm")}
        for service in self.SERVICES:
            sandbox_client(sandbox, service).meta.events.register("before-call", self._count)

    def _count(self, event_name: str = "", **_: Any) -> None:
        # event_name is "before-call.<service>.<Operation>"
        operation = event_name.split(".", 1)[-1].replace(".", ":")
        phase = self.counts.setdefault(self.phase, {})
        phase[operation] = phase.get(operation, 0) + 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        return {phase: dict(counts) for phase, counts in self.counts.items()}


_ENDED_WELL = {"outcome": "ok"}


class _Delivered:
    """A topic listener already drained: observers share it read-only during confirmation."""

    def __init__(self, deliveries: list[Any]) -> None:
        self.deliveries = deliveries

    def drain(self, sandbox: Any) -> list[Any]:
        return []

    def close(self, sandbox: Any) -> None:
        pass


# ---------------------------------------------------------------- the storm


def run_storm(scenario: Scenario, options: RunOptions, storm: StormOptions, run_id: str,
              profile: ChaosProfile | None = None) -> StormReport:
    """Run the storm on a fresh sandbox and report it; the sandbox is always cleaned up."""
    from simulator.stepfunctions import is_state_machine_responder

    storm.check()
    if is_state_machine_responder(options.responder or scenario.responder.handler):
        # Executions run side by side, so a call cannot be tied to the finding it was made for.
        raise UsageError("storm mode drives a Lambda-style handler; a state machine responder is not supported "
                         "yet (use --responder MODULE:FUNC)")
    stack = contextlib.ExitStack()
    try:
        return _storm(scenario, options, storm, run_id, profile, stack)
    finally:
        with deferred_interrupts():
            stack.close()


def _storm(scenario: Scenario, options: RunOptions, storm: StormOptions, run_id: str,
           profile: ChaosProfile | None, stack: contextlib.ExitStack) -> StormReport:
    from simulator.observers import create_observer
    from simulator.observers.clients import drop_clients
    from simulator.observers.notify import TopicListener

    count = storm.count
    copies = min(storm.resources or DEFAULT_RESOURCES, count)
    fanned, names = fan_out(scenario, copies)
    report = StormReport(scenario.id, run_id, options.seed, options.time_scale, storm.rate, storm.duration, count,
                         copies, profile=profile.name if profile else None)
    started = time.monotonic()
    session = open_session(fanned, options, run_id, stack, profile=profile)
    sandbox, env = session.sandbox, session.env
    stack.callback(drop_clients, sandbox)
    # The findings API serves thousands of findings from compressed JSON: under a kilobyte each.
    session.gateway.findings.compact = True
    report.provision_seconds = time.monotonic() - started

    spec = scenario.findings[0]
    findings = generate_storm_findings(spec.type, [env.resources[name] for name in names], count,
                                       rng=random.Random(f"{options.seed}:{scenario.id}:storm"),
                                       account_id=sandbox.account_id, region=sandbox.region, severity=spec.severity)
    report.generate_ms_per_finding = findings.generate_ms_per_finding
    finding_ids = findings.ids

    options.say(f"preparing observers for {copies} {names[0]} copies")
    calls = _ObserverCalls(sandbox)
    observers = StormObservers(fanned, env, names, create_observer)
    observers.prepare(sandbox, [findings.envelopes[index].finding() for index in range(copies)], TopicListener,
                      workers=CHECK_WORKERS, on_listener=lambda listener: stack.callback(listener.close, sandbox))

    offsets = [index / storm.rate for index in range(count)]
    options.say(f"storm: {count} findings at {storm.rate:g}/s over {copies} {names[0]} copies"
                + (f" under chaos profile {profile.name}" if profile else ""))
    calls.phase = "storm"
    report.rss_mb_before_storm = _rss_mb("VmRSS")
    cpu_started = time.process_time()
    plan_start = session.chaos.start_injection(sandbox, findings.envelopes, offsets=offsets,
                                               gateway=session.gateway, cancel=options.cancel, stack=stack)
    plan, injector = session.chaos.plan, session.chaos.injector
    assert plan is not None and injector is not None
    published_mono = [plan_start + offset for offset in offsets]
    ledger = StormLedger(
        finding_ids=finding_ids, step_ids=[step.id for step in fanned.steps], callers=session.callers,
        causing_operations=observers.causing_operations,
        build_observers=lambda index: observers.build(index, findings.envelopes[index].finding()),
        check_blast=_blast_check(fanned, env, names, session.callers))

    longest_sla = max((step.within_seconds for step in scenario.steps), default=0.0)
    deadline = plan_start + plan.span_seconds + longest_sla * (1 + LATE_WINDOW_FACTOR) / options.time_scale
    report.settled = _fold_until_idle(ledger, session, injector, deadline)
    settled_at = time.monotonic()
    report.settle_seconds = settled_at - plan_start
    report.harness_cpu_ms_per_finding = (time.process_time() - cpu_started) * 1000 / count
    report.rss_mb_after_storm = _rss_mb("VmRSS")

    options.say("confirming effects")
    calls.phase = "confirm"
    verify_started = time.monotonic()
    chosen = _chosen(storm, options.seed, finding_ids, ledger)
    delivered = _deliveries_for(observers.listeners, sandbox, {finding_ids[index] for index in chosen}, ledger)
    started_wall = injector.started_wall or time.time()
    held = confirm_effects(
        sandbox, chosen,
        build=lambda index, steps: observers.build(index, findings.envelopes[index].finding(), steps=steps,
                                                   listeners=delivered),
        injected_wall=lambda index: started_wall + (published_mono[index] - plan_start),
        witness=ledger.witness_journal(), step_ids=ledger.step_ids, findings=count, workers=CHECK_WORKERS)
    report.checks, report.checks_of = held.checks, count * len(fanned.steps)
    report.verify_seconds = time.monotonic() - verify_started
    report.observer_calls = calls.snapshot()
    calls.phase = "cleanup"

    _judge(report, fanned, session, plan, injector, observers, ledger, held, published_mono, settled_at)
    report.errors = [*injector.errors, *session.gateway.errors]
    report.rss_mb_peak = _rss_mb("VmHWM")
    return report


def _fold_until_idle(ledger: StormLedger, session: Any, injector: Any, deadline: float) -> bool:
    """Fold the journal every FOLD_SECONDS until the last event is published and the responder is idle (True),
    or the storm's window closes (False)."""
    runtime, journal = session.runtime, session.journal
    while not injector.join(timeout=min(FOLD_SECONDS, max(0.0, deadline - time.monotonic()))):
        ledger.fold(journal, runtime.invocations)
        if time.monotonic() >= deadline:
            break
    settled = False
    while True:
        ledger.fold(journal, runtime.invocations)
        remaining = deadline - time.monotonic()
        if runtime.wait_idle(timeout=max(0.05, min(FOLD_SECONDS, remaining))):
            settled = True
            break
        if remaining <= 0:
            settled = runtime.wait_idle(timeout=1.0)
            break
    ledger.fold(journal, runtime.invocations)
    ledger.check_pending_blast()
    return settled


def _deliveries_for(listeners: dict[str, Any], sandbox: Any, chosen: set[str],
                    ledger: StormLedger) -> dict[str, _Delivered]:
    """What each topic delivered that the confirming checks may look at: the messages naming a chosen
    finding, and those naming no finding of the storm (a page may name none)."""
    delivered = {}
    for arn, listener in listeners.items():
        listener.drain(sandbox)
        kept = []
        for delivery in listener.deliveries:
            named = ledger.mentions((delivery.message, delivery.subject))
            if not named or chosen.intersection(named):
                kept.append(delivery)
        listener.deliveries = []  # read once, by the checks below only
        delivered[arn] = _Delivered(kept)
    return delivered


def _chosen(storm: StormOptions, seed: int, finding_ids: Sequence[str], ledger: StormLedger) -> dict[int, list[str]]:
    """Finding index -> the steps whose effects the observers confirm: every step of every finding, or of a
    sample of them plus every step no call of the responder accounts for."""
    steps = ledger.step_ids
    if storm.verifies_all():
        return {index: list(steps) for index in range(len(finding_ids))}
    sampled = random.Random(f"{seed}:storm-sample").sample(list(finding_ids), min(storm.sample, len(finding_ids)))
    chosen: dict[int, list[str]] = {ledger.index[fid]: list(steps) for fid in sampled}
    for index, position in ledger.unevidenced():
        wanted = chosen.setdefault(index, [])
        if steps[position] not in wanted:
            wanted.append(steps[position])
    return dict(sorted(chosen.items()))


def _blast_check(scenario: Scenario, env: Any, names: Sequence[str],
                 callers: frozenset[str]) -> Callable[[list[Any]], list[str]]:
    from simulator.verdicts import blast_radius, shared_resource_names

    shared = shared_resource_names(scenario, env)
    scope = sorted(set(names))

    def check(entries: list[Any]) -> list[str]:
        verdict = blast_radius(entries, env=env, scope_names=scope, shared_names=shared, responder_callers=callers)
        return list(verdict.violations)

    return check


def _judge(report: StormReport, scenario: Scenario, session: Any, plan: DeliveryPlan, injector: Any,
           observers: StormObservers, ledger: StormLedger, held: Confirmations, published_mono: Sequence[float],
           settled_at: float) -> None:
    from simulator.verdicts import (
        blast_radius,
        no_duplicate_side_effects,
        no_unhandled_errors,
        pages_from_journal,
        remediated_or_escalated,
        shared_resource_names,
    )
    from simulator.verdicts.invariants import ESCALATION_KIND

    env, runtime = session.env, session.runtime
    finding_ids = ledger.finding_ids
    scale = report.time_scale
    steps = list(scenario.steps)
    remediation = [position for position, step in enumerate(steps) if step.expect.kind != ESCALATION_KIND]
    # The remediated-or-escalated invariant reads each step's verdict and kind only: findings share verdicts.
    shared_verdicts: dict[tuple[str, ...], tuple[StepVerdict, ...]] = {}
    steps_by_finding: dict[str, tuple[StepVerdict, ...]] = {}
    observed: list[list[float]] = [[] for _ in steps]
    counts = [{MET: 0, LATE: 0, MISSING: 0} for _ in steps]
    remediated: set[str] = set()
    for index, fid in enumerate(finding_ids):
        outcome = []
        for position, step in enumerate(steps):
            moment = ledger.moment(position, index)
            checked, confirmed, detail = held.get(index, position)
            if checked and confirmed is None:
                report.unconfirmed.append(f"finding {fid} {step.id}: {detail}")
            done = confirmed if confirmed is not None else moment is not None
            if confirmed is False and moment is not None:
                report.disagreements.append(f"finding {fid} {step.id}: the responder's calls succeeded, but "
                                            f"{detail or 'the effect is not there'}")
            if done and moment is None:
                # Held without a call of its own while handling this finding (an earlier finding on the same
                # resource did it): dated when the responder finished with it.
                finished = ledger.handled(index)
                moment = finished if finished is not None else settled_at
            seconds = max(0.0, moment - published_mono[index]) * scale if done and moment is not None else None
            if seconds is not None:
                observed[position].append(seconds)
            elif len(report.missing_examples.setdefault(step.id, [])) < 3:
                report.missing_examples[step.id].append(f"finding {fid}: {detail or 'no effect and no call for it'}")
            verdict = classify(seconds, step.within_seconds, scale)
            counts[position][verdict] += 1
            outcome.append(verdict)
        key = tuple(outcome)
        if key not in shared_verdicts:
            shared_verdicts[key] = tuple(
                StepVerdict(step.id, step.within_seconds, None, None, verdict, title=step.title, kind=step.expect.kind,
                            sla_text=step.within_text) for step, verdict in zip(steps, key, strict=True))
        steps_by_finding[fid] = shared_verdicts[key]
        if all(outcome[position] in (MET, LATE) for position in remediation):
            remediated.add(fid)
    report.missing_examples = {step: lines for step, lines in report.missing_examples.items() if lines}
    for position, step in enumerate(steps):
        values = observed[position]
        report.steps.append(StepStats(
            step.id, step.title, step.within_seconds, met=counts[position][MET], late=counts[position][LATE],
            missing=counts[position][MISSING], p50=percentile(values, 50), p95=percentile(values, 95),
            p99=percentile(values, 99), max=max(values) if values else None))

    escalation_topic = env.resources.get(scenario.escalation.topic, {}).get("arn")
    pages = pages_from_journal(ledger.kept, escalation_topic, finding_ids)
    escalated = {fid for fid, levels in pages.items() if levels}
    report.remediated, report.escalated = len(remediated), len(escalated - remediated)
    report.unresolved = [fid for fid in finding_ids if fid not in remediated and fid not in escalated]

    blast = blast_radius([], env=env, scope_names=sorted(set(observers.names)),
                         shared_names=shared_resource_names(scenario, env), responder_callers=session.callers)
    if ledger.blast_violations:
        blast = Invariant(blast.id, False, "; ".join(ledger.blast_violations), tuple(ledger.blast_violations))
    scopes = {fid: observers.copy_ids[index % len(observers.names)] for index, fid in enumerate(finding_ids)}
    # Only the failed invocations were kept whole; the others count as what they were, invocations that ended well.
    succeeded = itertools.repeat(_ENDED_WELL, ledger.invocations - len(ledger.failed_invocations))
    report.invariants = [
        blast,
        no_unhandled_errors(itertools.chain(ledger.failed_invocations, succeeded), runtime.dead_letters),
        remediated_or_escalated(finding_ids, steps_by_finding, pages),
        no_duplicate_side_effects(ledger.kept, scopes, responder_callers=session.callers),
    ]

    delivered = [item.injection.mono for item in injector.delivered]
    publishing_end = max(published_mono) if published_mono else 0.0
    report.backlog_max, report.backlog_at_end_of_publishing = backlog(
        delivered, list(ledger.first_attempt_started), publishing_end)
    report.deliveries, report.dropped = len(plan.deliveries), len(plan.dropped)
    handled = [(index, moment) for index in range(len(finding_ids)) if (moment := ledger.handled(index)) is not None]
    report.handled = len(handled)
    if handled and published_mono:
        span = max(moment for _, moment in handled) - min(published_mono)
        report.throughput_per_second = len(handled) / span if span > 0 else 0.0
    first_delivery: dict[str, float] = {}
    for item in injector.delivered:
        if item.planned.finding_id:
            first_delivery.setdefault(item.planned.finding_id, item.injection.mono)
    if len(first_delivery) > 1:
        span = max(first_delivery.values()) - min(first_delivery.values())
        report.publish_rate_achieved = (len(first_delivery) - 1) / span if span > 0 else 0.0
    pickups = [started - published_mono[index] for index, started in enumerate(ledger.first_started)
               if not math.isnan(started)]  # NaN: never picked up
    report.pickup_p50, report.pickup_p95 = percentile(pickups, 50), percentile(pickups, 95)
    durations = list(ledger.invocation_ms)
    report.invocation_ms_p50, report.invocation_ms_p95 = percentile(durations, 50), percentile(durations, 95)
    report.invocations = ledger.invocations
    report.invocation_errors = ledger.invocation_errors
    report.dead_letters = len(runtime.dead_letters)
    report.api_calls = ledger.api_calls
    report.slowest_calls = ledger.slowest_calls()
    report.faults = session.chaos.faults.counts() if session.chaos.faults else {}
    put_events = [(item.injection.acked_mono - item.injection.mono) * 1000 for item in injector.delivered
                  if item.injection.acked_mono]
    report.put_events_ms_p50 = percentile(put_events, 50)
    report.journal_entries_kept = len(session.journal.entries())
    report.calls_kept = len(ledger.kept)


__all__ = ["StepStats", "StormOptions", "StormReport", "backlog", "fan_out", "percentile", "render_storm",
           "run_storm"]
