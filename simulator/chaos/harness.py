"""One scenario under a chaos profile: the runner's lifecycle with the calls of
:mod:`simulator.chaos.hooks` in it (the profile's fault hook on the gateway, its delivery plan in place
of the plain injection, and what chaos did in the result).

:func:`open_session` builds what every run needs (sandbox, environment, responder identity, gateway with
the fault hook, rule, responder) on an ExitStack that tears it down; :func:`run_with_chaos` runs,
observes and judges one scenario on it. Storm mode reuses the session with many findings.
"""

from __future__ import annotations

import contextlib
import random
import time
from dataclasses import dataclass, field
from typing import Any

from simulator.chaos.delivery import DeliveryPlan
from simulator.chaos.faults import ChaosFaults
from simulator.chaos.hooks import RunChaos, attach_chaos
from simulator.chaos.profile import ChaosProfile
from simulator.runner import (
    LATE_WINDOW_FACTOR,
    RunOptions,
    create_responder_identity,
    deferred_interrupts,
    make_target,
)
from simulator.scenario import Scenario
from simulator.targets.base import Credentials, Sandbox


@dataclass
class Session:
    """The parts of one run, all registered for clean-up on the stack they were opened with."""

    scenario: Scenario
    sandbox: Sandbox
    env: Any  # ProvisionedEnvironment
    journal: Any  # Journal
    gateway: Any  # Gateway
    runtime: Any  # FunctionRuntime
    route: Any  # DeliveryRoute
    responder_credentials: Credentials
    handler: str
    chaos: RunChaos

    @property
    def callers(self) -> frozenset[str]:
        """The access keys the system under test calls with (a state machine adds the emulator's own)."""
        return frozenset(getattr(self.runtime, "callers", None) or {self.responder_credentials.access_key_id})


def open_session(scenario: Scenario, options: RunOptions, run_id: str, stack: contextlib.ExitStack, *,
                 profile: ChaosProfile | None = None) -> Session:
    """Start the sandbox, provision the scenario, and start the gateway (with the profile's fault hook),
    the responder's rule and the responder (the runner's own way: a function runtime or a state machine)."""
    from simulator.runner import _start_responder

    target = make_target(options)
    stack.callback(target.stop)
    options.say(f"starting {target.name} sandbox")
    sandbox = target.start()

    from simulator.delivery import install_rule, warm_delivery
    from simulator.gateway import Gateway, Journal
    from simulator.provision import provision

    if hasattr(target, "warm"):
        target.warm()
    options.say(f"provisioning {scenario.id}")
    env = provision(scenario, sandbox, run_id)
    credentials = create_responder_identity(sandbox, run_id)

    journal = Journal()
    gateway = Gateway(sandbox.endpoint_url or "", journal, region=sandbox.region, account_id=sandbox.account_id)
    gateway.start()
    stack.callback(gateway.stop)
    gateway.label_caller(credentials.access_key_id, "responder")
    chaos = attach_chaos(profile, seed=options.seed, scenario_id=scenario.id, time_scale=options.time_scale,
                         env=env, gateway=gateway)

    handler = options.responder or scenario.responder.handler
    if options.target == "moto":
        warm_delivery(sandbox, run_id)
    route = install_rule(sandbox, scenario.responder.rule.name, scenario.responder.rule.event_pattern, run_id)
    runtime = _start_responder(handler, scenario=scenario, options=options, sandbox=sandbox, env=env,
                               gateway=gateway, route=route, target=target, credentials=credentials, stack=stack)
    return Session(scenario, sandbox, env, journal, gateway, runtime, route, credentials, handler, chaos)


@dataclass
class ChaosRun:
    """A scenario's result under chaos, and what chaos did to it."""

    result: Any  # ScenarioResult
    chaos: RunChaos
    report: dict[str, Any] = field(default_factory=dict)  # the ``chaos`` member of the scenario's report

    @property
    def profile(self) -> ChaosProfile | None:
        return self.chaos.profile

    @property
    def plan(self) -> DeliveryPlan:
        assert self.chaos.plan is not None
        return self.chaos.plan

    @property
    def faults(self) -> ChaosFaults | None:
        return self.chaos.faults

    @property
    def attribution(self) -> list[str]:
        return list(self.report.get("attribution", []))

    @property
    def fault_lines(self) -> list[str]:
        return list(self.report.get("fault_calls", []))

    @property
    def delivery_lines(self) -> list[str]:
        return list(self.report.get("deliveries", []))

    @property
    def errors(self) -> list[str]:
        return list(self.report.get("errors", []))


def run_with_chaos(scenario: Scenario, options: RunOptions, run_id: str,
                   profile: ChaosProfile | None = None) -> ChaosRun:
    """Run one scenario on a fresh sandbox under ``profile`` (None: no chaos) and judge it."""
    stack = contextlib.ExitStack()
    try:
        return _run(scenario, options, run_id, profile, stack)
    finally:
        with deferred_interrupts():
            stack.close()


def _run(scenario: Scenario, options: RunOptions, run_id: str, profile: ChaosProfile | None,
         stack: contextlib.ExitStack) -> ChaosRun:
    rng = random.Random(f"{options.seed}:{scenario.id}")
    session = open_session(scenario, options, run_id, stack, profile=profile)
    sandbox, env = session.sandbox, session.env

    from simulator.findings import generate_finding, wrap_in_envelope
    from simulator.observers import ObservationLoop, create_observer
    from simulator.oncall import start_oncall
    from simulator.provision import take_inventory
    from simulator.reports import ScenarioResult
    from simulator.stepfunctions import prime_subscriptions
    from simulator.verdicts import evaluate_invariants, judge_steps

    findings = [generate_finding(spec.type, rng=rng, account_id=sandbox.account_id, region=sandbox.region,
                                 resource=env.resources[spec.resource] if spec.resource else None,
                                 severity=spec.severity, allow_retired=scenario.allow_retired_types)
                for spec in scenario.findings]
    observers = {step.id: create_observer(step.expect.kind, step.expect.params, env, findings[0], scenario)
                 for step in scenario.steps}
    for observer in observers.values():
        observer.prepare(sandbox)
    prime_subscriptions(sandbox, [d["arn"] for d in env.resources.values() if d["kind"] == "topic"])
    oncall = start_oncall(scenario, sandbox, env, time_scale=options.time_scale)
    if oncall is not None:
        stack.callback(oncall.stop)
    inventory_before = take_inventory(sandbox, env)

    envelopes = [wrap_in_envelope(finding, rng=rng) for finding in findings]
    offsets, at = [], 0.0
    for spec in scenario.findings:
        at += spec.delay_seconds / options.time_scale
        offsets.append(at)
    options.say(f"injecting {', '.join(f['type'] for f in findings)}"
                + (f" under chaos profile {profile.name}" if profile else ""))
    chaos = session.chaos
    injected_mono = chaos.start_injection(sandbox, envelopes, offsets=offsets, gateway=session.gateway,
                                          cancel=options.cancel, stack=stack)

    longest_sla = max((step.within_seconds for step in scenario.steps), default=0.0)
    window = longest_sla * (1 + LATE_WINDOW_FACTOR) / options.time_scale + chaos.span_seconds
    loop = ObservationLoop(sandbox, session.journal, observers, injected_mono=injected_mono,
                           deadline_mono=injected_mono + window, stop_event=options.cancel)
    stack.callback(loop.cleanup)
    options.say("observing")
    observations = loop.run()
    observed_for = (loop.finished_mono or time.monotonic()) - injected_mono
    chaos.wait_for_deliveries()  # late duplicates and updates are judged too
    session.runtime.wait_idle(timeout=max(1.0, scenario.responder.timeout_seconds))
    inventory_after = take_inventory(sandbox, env)

    callers = session.callers
    steps = judge_steps(scenario.steps, observations, injected_mono, options.time_scale)
    invariants = evaluate_invariants(
        scenario=scenario, env=env, journal=session.journal, findings=findings, steps=steps,
        invocations=session.runtime.invocations, dead_letters=session.runtime.dead_letters,
        inventory_before=inventory_before, inventory_after=inventory_after, responder_callers=callers,
    )
    result = ScenarioResult.build(
        scenario=scenario, findings=findings, steps=steps, invariants=invariants,
        invocations=session.runtime.invocations, journal=session.journal, seed=options.seed,
        time_scale=options.time_scale, target=options.target, responder=session.handler,
        chaos=chaos.argument, dead_letters=session.runtime.dead_letters, observed_for_wall_seconds=observed_for,
        injected_mono=injected_mono,
        harness_errors=[*session.gateway.errors, *map(str, session.journal.subscriber_errors), *chaos.errors],
    )
    report = chaos.report(steps, invariants, session.journal, finding_id=findings[0].get("id"),
                          responder_callers=callers) or {}
    report["errors"] = [*report.get("errors", []), *session.gateway.errors]
    return ChaosRun(result=result, chaos=chaos, report=report)
