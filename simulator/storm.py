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
"""

from __future__ import annotations

import bisect
import contextlib
import ipaddress
import random
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.chaos.delivery import DeliveryPlan
from simulator.chaos.profile import ChaosProfile
from simulator.chaos.storm_report import StepStats, StormReport, backlog, percentile, render_storm
from simulator.errors import InputError, UsageError
from simulator.runner import LATE_WINDOW_FACTOR, RunOptions, deferred_interrupts
from simulator.scenario import Instance, Scenario
from simulator.session import open_session
from simulator.verdicts.model import LATE, MET, MISSING, StepVerdict
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


class _Delivered:
    """A topic listener already drained: observers share it read-only during verification."""

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
    from simulator.findings import generate_finding, wrap_in_envelope
    from simulator.observers import create_observer
    from simulator.observers.notify import TopicListener

    count = storm.count
    copies = min(storm.resources or DEFAULT_RESOURCES, count)
    fanned, names = fan_out(scenario, copies)
    report = StormReport(scenario.id, run_id, options.seed, options.time_scale, storm.rate, storm.duration, count,
                         copies, profile=profile.name if profile else None)
    started = time.monotonic()
    session = open_session(fanned, options, run_id, stack, profile=profile)
    sandbox, env = session.sandbox, session.env
    report.provision_seconds = time.monotonic() - started
    report.rss_mb_after_provisioning = _rss_mb("VmRSS")

    rng = random.Random(f"{options.seed}:{scenario.id}:storm")
    spec = scenario.findings[0]
    generate_started = time.perf_counter()
    findings = [generate_finding(spec.type, rng=rng, account_id=sandbox.account_id, region=sandbox.region,
                                 resource=env.resources[names[index % copies]], severity=spec.severity)
                for index in range(count)]
    envelopes = [wrap_in_envelope(finding, rng=rng) for finding in findings]
    report.generate_ms_per_finding = (time.perf_counter() - generate_started) * 1000 / count
    finding_ids = [str(finding["id"]) for finding in findings]
    owner = {fid: names[index % copies] for index, fid in enumerate(finding_ids)}

    options.say(f"preparing observers for {count} findings")
    listeners, observers = _observers(fanned, env, findings, owner, names[0], create_observer, TopicListener)
    for listener in listeners.values():
        listener.subscribe(sandbox)
        stack.callback(listener.close, sandbox)
    preparing = [o for per_finding in observers.values() for o in per_finding.values() if not hasattr(o, "listener")]
    with ThreadPoolExecutor(CHECK_WORKERS, thread_name_prefix="storm-prepare") as pool:
        list(pool.map(lambda observer: observer.prepare(sandbox), preparing))

    offsets = [index / storm.rate for index in range(count)]
    options.say(f"storm: {count} findings at {storm.rate:g}/s over {copies} {names[0]} copies"
                + (f" under chaos profile {profile.name}" if profile else ""))
    cpu_started = time.process_time()
    plan_start = session.chaos.start_injection(sandbox, envelopes, offsets=offsets, gateway=session.gateway,
                                               cancel=options.cancel, stack=stack)
    del envelopes
    plan, injector = session.chaos.plan, session.chaos.injector
    assert plan is not None and injector is not None
    published_mono = {fid: plan_start + offset for fid, offset in zip(finding_ids, offsets, strict=True)}
    for fid, per_finding in observers.items():
        for observer in per_finding.values():
            observer.injected_wall = (injector.started_wall or time.time()) + (published_mono[fid] - plan_start)

    longest_sla = max((step.within_seconds for step in scenario.steps), default=0.0)
    deadline = plan_start + plan.span_seconds + longest_sla * (1 + LATE_WINDOW_FACTOR) / options.time_scale
    injector.join(timeout=max(0.0, deadline - time.monotonic()))
    report.settled = session.runtime.wait_idle(timeout=max(1.0, deadline - time.monotonic()))
    settled_at = time.monotonic()
    report.settle_seconds = settled_at - plan_start
    report.harness_cpu_ms_per_finding = (time.process_time() - cpu_started) * 1000 / count

    options.say("confirming effects")
    verify_started = time.monotonic()
    evidence = _evidence(session, observers, published_mono)
    for listener in listeners.values():
        listener.drain(sandbox)
    for per_finding in observers.values():
        for observer in per_finding.values():
            if hasattr(observer, "listener"):
                observer.listener = _Delivered(listeners[observer.topic_arn].deliveries)
    keys = [(fid, step_id) for fid, per_finding in observers.items() for step_id in per_finding]
    if storm.verifies_all():
        chosen = keys
    else:
        sampled = set(random.Random(f"{options.seed}:storm-sample").sample(list(observers), min(storm.sample,
                                                                                               count)))
        chosen = [key for key in keys if key[0] in sampled or evidence[key] is None]
    with ThreadPoolExecutor(CHECK_WORKERS, thread_name_prefix="storm-verify") as pool:
        held = dict(zip(chosen, pool.map(lambda key: _held(observers[key[0]][key[1]], sandbox), chosen),
                        strict=True))
    report.checks, report.checks_of = len(chosen), len(keys)
    report.verify_seconds = time.monotonic() - verify_started
    report.rss_mb_peak = _rss_mb("VmHWM")

    _judge(report, fanned, session, plan, injector, observers, evidence, held, published_mono, settled_at)
    report.errors = [*injector.errors, *session.gateway.errors]
    return report


def _observers(scenario: Scenario, env: Any, findings: Sequence[Mapping[str, Any]], owner: Mapping[str, str],
               original: str, create_observer: Any, listener_class: Any) -> tuple[dict[str, Any], dict[str, dict]]:
    """One observer per step and finding, bound to the finding's copy; one shared listener per topic."""
    from simulator.verdicts.invariants import resource_ids

    listeners: dict[str, Any] = {}
    observers: dict[str, dict[str, Any]] = {}
    for finding in findings:
        fid = str(finding["id"])
        per_finding = {}
        for step in scenario.steps:
            params = {key: owner[fid] if value == original else value for key, value in step.expect.params.items()}
            observer = create_observer(step.expect.kind, params, env, finding, scenario)
            if hasattr(observer, "listener"):
                listeners.setdefault(observer.topic_arn, listener_class(observer.topic_arn))
            else:
                # Every id of the copy (its interfaces, volumes), so its calls are known before any check.
                observer.resource_ids.update(resource_ids(env, owner[fid]))
            per_finding[step.id] = observer
        observers[fid] = per_finding
    return listeners, observers


def _held(observer: Any, sandbox: Any) -> bool | None:
    """One observer check; None when the sandbox could not answer it (the journal's evidence then stands)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return bool(observer.check(sandbox))
    except (ClientError, BotoCoreError) as error:
        observer.detail = f"check failed: {error}"
        return None


def _evidence(session: Any, observers: Mapping[str, Mapping[str, Any]],
              published_mono: Mapping[str, float]) -> dict[tuple[str, str], float | None]:
    """(finding, step) -> when the responder's last successful call causing the step came back, while it
    handled that finding (up to its first invocation that ended well); None without such a call.

    The function runtime runs one event at a time, so a call belongs to the invocation it falls in.
    """
    caller = session.responder_credentials.access_key_id
    calls = sorted((e for e in session.journal.entries() if e.caller == caller), key=lambda e: e.mono_start)
    starts = [entry.mono_start for entry in calls]
    windows: dict[str, list[Any]] = defaultdict(list)
    for invocation in session.runtime.invocations:
        if invocation.finding_id in published_mono:
            windows[invocation.finding_id].append(invocation)
    evidence: dict[tuple[str, str], float | None] = {}
    for fid, per_finding in observers.items():
        mine = sorted(windows.get(fid, []), key=lambda inv: inv.started_mono)
        first_ok = next((index for index, inv in enumerate(mine) if inv.outcome == "ok"), None)
        considered = mine[:first_ok + 1] if first_ok is not None else mine
        made = [entry for inv in considered
                for entry in calls[bisect.bisect_left(starts, inv.started_mono):
                                   bisect.bisect_right(starts, inv.ended_mono)]]
        for step_id, observer in per_finding.items():
            causing = [entry.mono for entry in made if observer.is_causing(entry)]
            evidence[(fid, step_id)] = max(causing) if causing else None
    return evidence


def _handled_at(invocations: Sequence[Any]) -> dict[str, float]:
    """Finding id -> when its first invocation that ended well ended."""
    handled: dict[str, float] = {}
    for inv in sorted(invocations, key=lambda inv: inv.ended_mono):
        if inv.outcome == "ok" and inv.finding_id and inv.finding_id not in handled:
            handled[inv.finding_id] = inv.ended_mono
    return handled


def _judge(report: StormReport, scenario: Scenario, session: Any, plan: DeliveryPlan, injector: Any,
           observers: Mapping[str, Mapping[str, Any]], evidence: Mapping[tuple[str, str], float | None],
           held: Mapping[tuple[str, str], bool | None], published_mono: Mapping[str, float], settled_at: float) -> None:
    from simulator.verdicts import (
        blast_radius,
        no_duplicate_side_effects,
        no_unhandled_errors,
        pages_from_journal,
        remediated_or_escalated,
        shared_resource_names,
    )
    from simulator.verdicts.invariants import ESCALATION_KIND, resource_ids

    runtime, env = session.runtime, session.env
    caller = session.responder_credentials.access_key_id
    entries = session.journal.entries()
    responder_entries = [entry for entry in entries if entry.caller == caller]
    invocations = list(runtime.invocations)
    handled_at = _handled_at(invocations)

    scale = report.time_scale
    steps_by_finding: dict[str, list[StepVerdict]] = {}
    observed: dict[str, list[float]] = defaultdict(list)
    for fid, per_finding in observers.items():
        verdicts = []
        for step in scenario.steps:
            key = (fid, step.id)
            moment = evidence[key]
            confirmed = held.get(key)
            if key in held and confirmed is None:
                report.unconfirmed.append(f"finding {fid} {step.id}: {per_finding[step.id].detail}")
            done = confirmed if confirmed is not None else moment is not None
            if confirmed is False and moment is not None:
                report.disagreements.append(f"finding {fid} {step.id}: the responder's calls succeeded, but "
                                            f"{per_finding[step.id].detail or 'the effect is not there'}")
            if done and moment is None:
                # Held without a call of its own while handling this finding (an earlier finding on the same
                # resource did it): dated when the responder finished with it.
                moment = handled_at.get(fid, settled_at)
            seconds = max(0.0, moment - published_mono[fid]) * scale if done and moment is not None else None
            if seconds is not None:
                observed[step.id].append(seconds)
            elif len(report.missing_examples.setdefault(step.id, [])) < 3:
                report.missing_examples[step.id].append(
                    f"finding {fid}: {per_finding[step.id].detail or 'no effect and no call for it'}")
            verdicts.append(StepVerdict(step.id, step.within_seconds, seconds, None if seconds is None else
                                        seconds / scale, classify(seconds, step.within_seconds, scale),
                                        title=step.title, kind=step.expect.kind, sla_text=step.within_text))
        steps_by_finding[fid] = verdicts
    report.missing_examples = {step: lines for step, lines in report.missing_examples.items() if lines}

    for position, step in enumerate(scenario.steps):
        verdicts = [per_finding[position] for per_finding in steps_by_finding.values()]
        values = observed[step.id]
        report.steps.append(StepStats(
            step.id, step.title, step.within_seconds,
            met=sum(1 for v in verdicts if v.verdict == MET), late=sum(1 for v in verdicts if v.verdict == LATE),
            missing=sum(1 for v in verdicts if v.verdict == MISSING),
            p50=percentile(values, 50), p95=percentile(values, 95), p99=percentile(values, 99),
            max=max(values) if values else None))

    escalation_topic = env.resources.get(scenario.escalation.topic, {}).get("arn")
    finding_ids = list(observers)
    pages = pages_from_journal(responder_entries, escalation_topic, finding_ids)
    remediated = {fid for fid, verdicts in steps_by_finding.items()
                  if all(v.verdict in (MET, LATE) for v in verdicts if v.kind != ESCALATION_KIND)}
    escalated = {fid for fid, levels in pages.items() if levels}
    report.remediated, report.escalated = len(remediated), len(escalated - remediated)
    report.unresolved = [fid for fid in finding_ids if fid not in remediated and fid not in escalated]

    owners = _owner_map(observers)
    callers = {caller}
    report.invariants = [
        blast_radius(entries, env=env, scope_names=sorted({name for _, name in owners}),
                     shared_names=shared_resource_names(scenario, env), responder_callers=callers),
        no_unhandled_errors(invocations, runtime.dead_letters),
        remediated_or_escalated(finding_ids, steps_by_finding, pages),
        no_duplicate_side_effects(entries, {fid: resource_ids(env, name) for fid, name in owners},
                                  responder_callers=callers),
    ]

    first_attempts = [inv for inv in invocations if inv.attempt == 1]
    delivered = [item.injection.mono for item in injector.delivered]
    publishing_end = max(published_mono.values()) if published_mono else 0.0
    report.backlog_max, report.backlog_at_end_of_publishing = backlog(
        delivered, [inv.started_mono for inv in first_attempts], publishing_end)
    report.deliveries, report.dropped = len(plan.deliveries), len(plan.dropped)
    report.handled = len(handled_at)
    if handled_at and published_mono:
        span = max(handled_at.values()) - min(published_mono.values())
        report.throughput_per_second = len(handled_at) / span if span > 0 else 0.0
    first_delivery: dict[str, float] = {}
    for item in injector.delivered:
        if item.planned.finding_id:
            first_delivery.setdefault(item.planned.finding_id, item.injection.mono)
    if len(first_delivery) > 1:
        span = max(first_delivery.values()) - min(first_delivery.values())
        report.publish_rate_achieved = (len(first_delivery) - 1) / span if span > 0 else 0.0
    first_started: dict[str, float] = {}
    for inv in invocations:
        if inv.finding_id in published_mono:
            first_started[inv.finding_id] = min(inv.started_mono, first_started.get(inv.finding_id, inv.started_mono))
    pickups = [started - published_mono[fid] for fid, started in first_started.items()]
    report.pickup_p50, report.pickup_p95 = percentile(pickups, 50), percentile(pickups, 95)
    durations = [inv.duration_ms for inv in invocations]
    report.invocation_ms_p50, report.invocation_ms_p95 = percentile(durations, 50), percentile(durations, 95)
    report.invocations = len(invocations)
    report.invocation_errors = sum(1 for inv in invocations if inv.outcome != "ok")
    report.dead_letters = len(runtime.dead_letters)
    report.api_calls = len(responder_entries)
    report.slowest_calls = _slowest_calls(responder_entries)
    report.faults = session.chaos.faults.counts() if session.chaos.faults else {}
    put_events = [(item.injection.acked_mono - item.injection.mono) * 1000 for item in injector.delivered
                  if item.injection.acked_mono]
    report.put_events_ms_p50 = percentile(put_events, 50)


def _slowest_calls(entries: Sequence[Any], top: int = 5) -> dict[str, float]:
    """The operations the responder spent most time in, with their median duration (ms)."""
    durations: dict[str, list[float]] = defaultdict(list)
    for entry in entries:
        durations[f"{entry.service}:{entry.operation}"].append(entry.duration * 1000)
    ranked = sorted(durations.items(), key=lambda item: -sum(item[1]))[:top]
    return {name: round(percentile(values, 50) or 0.0, 1) for name, values in ranked}


def _owner_map(observers: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(finding id, logical name of the resource copy its observers watch)."""
    pairs = []
    for fid, per_finding in observers.items():
        name = next((o.params.get("instance") or o.params.get("user") for o in per_finding.values()
                     if o.params.get("instance") or o.params.get("user")), None)
        if name:
            pairs.append((fid, name))
    return pairs


__all__ = ["StepStats", "StormOptions", "StormReport", "backlog", "fan_out", "percentile", "render_storm",
           "run_storm"]
