"""One scenario under a chaos profile: the runner's lifecycle with the profile's fault hook on the gateway
and its delivery plan in place of the plain injection.

:func:`open_session` builds what every run needs (sandbox, environment, responder identity, gateway,
rule, function runtime) on an ExitStack that tears it down; :func:`run_with_chaos` runs, observes and
judges one scenario on it and links each miss to the chaos that caused it. Storm mode reuses the
session with many findings.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.chaos.attribution import attribute_misses, delivery_lines, describe_faults
from simulator.chaos.delivery import DeliveryPlan, PlanInjector, plain_plan
from simulator.chaos.faults import ChaosFaults
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


def chaos_rng(seed: int, scenario_id: str, purpose: str) -> random.Random:
    """A generator for one kind of chaos decision, apart from the findings' own: turning chaos on never
    changes the findings a seed gives, and faults never shift the delivery plan."""
    return random.Random(f"{seed}:{scenario_id}:chaos:{purpose}")


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
    faults: ChaosFaults | None = None


def open_session(scenario: Scenario, options: RunOptions, run_id: str, stack: contextlib.ExitStack, *,
                 profile: ChaosProfile | None = None,
                 on_invocation: Callable[[Any], None] | None = None) -> Session:
    """Start the sandbox, provision the scenario, and start the gateway (with the profile's fault hook),
    the responder's rule and its function runtime."""
    target = make_target(options)
    stack.callback(target.stop)
    options.say(f"starting {target.name} sandbox")
    sandbox = target.start()

    from simulator.delivery import FunctionRuntime, install_rule, warm_delivery
    from simulator.gateway import Gateway, Journal
    from simulator.provision import provision

    if hasattr(target, "warm"):
        target.warm()
    options.say(f"provisioning {scenario.id}")
    env = provision(scenario, sandbox, run_id)
    credentials = create_responder_identity(sandbox, run_id)

    journal = Journal()
    gateway = Gateway(sandbox.endpoint_url or "", journal, region=sandbox.region, account_id=sandbox.account_id)
    gateway_url = gateway.start()
    stack.callback(gateway.stop)
    gateway.label_caller(credentials.access_key_id, "responder")
    faults = None
    if profile is not None and profile.faults:
        faults = profile.fault_hook(chaos_rng(options.seed, scenario.id, "faults"), time_scale=options.time_scale,
                                    env=env, label_of=journal.label_of)
        gateway.fault_hook = faults

    handler = options.responder or scenario.responder.handler
    if options.target == "moto":
        warm_delivery(sandbox, run_id)
    route = install_rule(sandbox, scenario.responder.rule.name, scenario.responder.rule.event_pattern, run_id)
    runtime = FunctionRuntime(
        handler,
        env={key: env.resolve(value) for key, value in scenario.responder.environment.items()},
        endpoint_url=gateway_url,
        credentials=credentials,
        region=sandbox.region,
        sandbox=sandbox,
        queue_url=route.queue_url,
        timeout_seconds=scenario.responder.timeout_seconds,
        time_scale=options.time_scale,
        on_invocation=on_invocation,
    )
    stack.callback(runtime.stop)
    runtime.start()
    return Session(scenario, sandbox, env, journal, gateway, runtime, route, credentials, handler, faults)


def injector_for(session: Session, plan: DeliveryPlan, options: RunOptions) -> PlanInjector:
    """A plan injector putting events on the session's bus and findings in its GuardDuty API."""
    from simulator.delivery import inject_event

    events = session.sandbox.client("events")
    return PlanInjector(plan, inject=lambda envelope: inject_event(session.sandbox, dict(envelope),
                                                                    events_client=events),
                        on_publish=lambda finding: session.gateway.findings.add(finding), cancel=options.cancel)


@dataclass
class ChaosRun:
    """A scenario's result under chaos, and what chaos did to it."""

    result: Any  # ScenarioResult
    profile: ChaosProfile | None
    plan: DeliveryPlan
    faults: ChaosFaults | None
    attribution: list[str] = field(default_factory=list)
    fault_lines: list[str] = field(default_factory=list)
    delivery_lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # injection and gateway problems

    def report_data(self) -> dict[str, Any]:
        """The ``chaos`` member of a scenario in report.json."""
        return {
            "profile": self.profile.name if self.profile else None,
            "faults": self.faults.counts() if self.faults else {},
            "fault_calls": self.fault_lines,
            "deliveries": self.delivery_lines,
            "attribution": self.attribution,
            "errors": self.errors,
        }


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
    from simulator.provision import take_inventory
    from simulator.reports import ScenarioResult
    from simulator.verdicts import evaluate_invariants, judge_steps

    findings = [generate_finding(spec.type, rng=rng, account_id=sandbox.account_id, region=sandbox.region,
                                 resource=env.resources[spec.resource] if spec.resource else None,
                                 severity=spec.severity) for spec in scenario.findings]
    observers = {step.id: create_observer(step.expect.kind, step.expect.params, env, findings[0], scenario)
                 for step in scenario.steps}
    for observer in observers.values():
        observer.prepare(sandbox)
    inventory_before = take_inventory(sandbox, env)

    envelopes = [wrap_in_envelope(finding, rng=rng) for finding in findings]
    offsets, at = [], 0.0
    for spec in scenario.findings:
        at += spec.delay_seconds / options.time_scale
        offsets.append(at)
    plan = (profile.plan_deliveries(envelopes, chaos_rng(options.seed, scenario.id, "delivery"), options.time_scale,
                                    offsets=offsets)
            if profile is not None else plain_plan(envelopes, offsets=offsets, time_scale=options.time_scale))
    injector = injector_for(session, plan, options)
    stack.callback(injector.stop)
    options.say(f"injecting {', '.join(f['type'] for f in findings)}"
                + (f" under chaos profile {profile.name}" if profile else ""))
    injected_mono = injector.start()

    longest_sla = max((step.within_seconds for step in scenario.steps), default=0.0)
    window = longest_sla * (1 + LATE_WINDOW_FACTOR) / options.time_scale + plan.span_seconds
    loop = ObservationLoop(sandbox, session.journal, observers, injected_mono=injected_mono,
                           deadline_mono=injected_mono + window, stop_event=options.cancel)
    stack.callback(loop.cleanup)
    options.say("observing")
    observations = loop.run()
    observed_for = (loop.finished_mono or time.monotonic()) - injected_mono
    # Late duplicates and updates still count: their side effects are judged too.
    injector.join(timeout=max(0.0, injected_mono + plan.span_seconds - time.monotonic()) + 5.0)
    session.runtime.wait_idle(timeout=max(1.0, scenario.responder.timeout_seconds))
    inventory_after = take_inventory(sandbox, env)

    steps = judge_steps(scenario.steps, observations, injected_mono, options.time_scale)
    invariants = evaluate_invariants(
        scenario=scenario, env=env, journal=session.journal, findings=findings, steps=steps,
        invocations=session.runtime.invocations, dead_letters=session.runtime.dead_letters,
        inventory_before=inventory_before, inventory_after=inventory_after,
        responder_caller=session.responder_credentials.access_key_id,
    )
    result = ScenarioResult.build(
        scenario=scenario, findings=findings, steps=steps, invariants=invariants,
        invocations=session.runtime.invocations, journal=session.journal, seed=options.seed,
        time_scale=options.time_scale, target=options.target, responder=session.handler,
        chaos=profile.argument() if profile else None,
        dead_letters=session.runtime.dead_letters, observed_for_wall_seconds=observed_for,
    )
    caller = session.responder_credentials.access_key_id
    return ChaosRun(
        result=result, profile=profile, plan=plan, faults=session.faults,
        attribution=attribute_misses(steps, invariants, session.journal, plan=plan,
                                     finding_id=findings[0].get("id"), time_scale=options.time_scale,
                                     responder_caller=caller),
        fault_lines=describe_faults(session.journal, responder_caller=caller),
        delivery_lines=delivery_lines(plan),
        errors=[*injector.errors, *session.gateway.errors],
    )
