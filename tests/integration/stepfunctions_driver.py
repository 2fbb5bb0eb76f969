"""Runs a scenario with a Step Functions responder through the harness's own parts, the way the runner does:
provision, gateway, rule, state machine, on-call, observers, injection, observation, verdicts.

Used as a context manager so a test can keep using the live run (submit more events, read the journal)
before everything is torn down.
"""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from simulator.delivery import inject_event, install_rule, warm_delivery
from simulator.findings import generate_finding, wrap_in_envelope
from simulator.gateway import Journal
from simulator.observers import ObservationLoop, create_observer
from simulator.oncall import OnCallPlayer, start_oncall
from simulator.provision import provision, take_inventory
from simulator.scenario import Scenario
from simulator.session import create_responder_identity, open_gateway
from simulator.stepfunctions.deploy import prime_subscriptions
from simulator.stepfunctions.run import StateMachineResponder, start_responder
from simulator.targets.base import Sandbox
from simulator.targets.moto import MOTO_INTERNAL_ACCESS_KEY, MotoTarget
from simulator.verdicts import Invariant, StepVerdict, blast_radius, evaluate_invariants, judge_steps
from simulator.verdicts.invariants import shared_resource_names


@dataclass
class ScenarioRun:
    steps: dict[str, StepVerdict]
    invariants: dict[str, Invariant]
    blast_radius: Invariant  # over every key the responder acts with (the interpreter's and its functions')
    responder: StateMachineResponder
    oncall: OnCallPlayer | None
    journal: Journal
    env: Any
    finding: dict[str, Any]
    envelope: dict[str, Any]
    sandbox: Sandbox
    injected_mono: float

    def publishes(self, topic_arn: str) -> list[Any]:
        return [entry for entry in self.journal.entries()
                if entry.operation == "Publish" and entry.params.get("TopicArn") == topic_arn and entry.status < 300]


@contextlib.contextmanager
def scenario_run(target: MotoTarget, sandbox: Sandbox, scenario: Scenario, *, time_scale: float,
                 responder: str | None = None, seed: int = 7) -> Iterator[ScenarioRun]:
    run_id = f"gdsim-t{uuid.uuid4().hex[:8]}"
    rng = random.Random(seed)
    with contextlib.ExitStack() as stack:
        # Nothing is torn down: each test module discards its whole sandbox.
        env = provision(scenario, sandbox, run_id)
        credentials = create_responder_identity(sandbox, run_id)
        gateway = open_gateway(sandbox, stack, responder_key=credentials.access_key_id)
        journal = gateway.journal
        warm_delivery(sandbox, run_id)
        route = install_rule(sandbox, scenario.responder.rule.name, scenario.responder.rule.event_pattern, run_id)
        machine = start_responder(responder or scenario.responder.handler, scenario=scenario, sandbox=sandbox, env=env,
                                  gateway=gateway, route=route, target=target, credentials=credentials,
                                  time_scale=time_scale)
        stack.callback(machine.stop)
        spec = scenario.findings[0]
        finding = generate_finding(spec.type, rng=rng, account_id=sandbox.account_id, region=sandbox.region,
                                   resource=env.resources[spec.resource] if spec.resource else None,
                                   severity=spec.severity)
        observers = {step.id: create_observer(step.expect.kind, step.expect.params, env, finding, scenario)
                     for step in scenario.steps}
        for observer in observers.values():
            observer.prepare(sandbox)
        oncall = start_oncall(scenario, sandbox, env, time_scale=time_scale)
        if oncall is not None:
            stack.callback(oncall.stop)
        prime_subscriptions(sandbox, [d["arn"] for d in env.resources.values() if d["kind"] == "topic"])
        inventory_before = take_inventory(sandbox, env)
        gateway.findings.add(finding)
        envelope = wrap_in_envelope(finding, rng=rng)
        injection = inject_event(sandbox, envelope)
        longest = max(step.within_seconds for step in scenario.steps)
        loop = ObservationLoop(sandbox, journal, observers, injected_mono=injection.mono,
                               deadline_mono=injection.mono + longest * 1.5 / time_scale)
        stack.callback(loop.cleanup)
        observations = loop.run()
        machine.wait_idle(timeout=30)
        time.sleep(0.1)  # let the on-call read the last pages
        inventory_after = take_inventory(sandbox, env)
        steps = judge_steps(scenario.steps, observations, injection.mono, time_scale)
        invariants = evaluate_invariants(
            scenario=scenario, env=env, journal=journal, findings=[finding], steps=steps,
            invocations=machine.invocations, dead_letters=machine.dead_letters, inventory_before=inventory_before,
            inventory_after=inventory_after, responder_caller=MOTO_INTERNAL_ACCESS_KEY)
        everything = blast_radius(
            journal.entries(), env=env, scope_names=[spec.resource] if spec.resource else [],
            shared_names=shared_resource_names(scenario, env), inventory_before=inventory_before,
            inventory_after=inventory_after, responder_callers=machine.callers)
        yield ScenarioRun(
            steps={step.id: step for step in steps}, invariants={item.id: item for item in invariants},
            blast_radius=everything, responder=machine, oncall=oncall, journal=journal, env=env, finding=finding,
            envelope=envelope, sandbox=sandbox, injected_mono=injection.mono)
