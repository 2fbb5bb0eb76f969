"""The crypto runbook's Step Functions responder, judged by the same scenario as the Lambda responder.

The flow runs in the emulator's interpreter with SDK integrations only; every call it makes goes through
the gateway under the interpreter's key, so the same observers, SLAs and invariants apply. It must also be
idempotent per finding and escalate hostile events without touching anything.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from stepfunctions_driver import ScenarioRun, scenario_run

from simulator.findings import aggregate_update, wrap_in_envelope
from simulator.scenario import load_scenario
from simulator.targets.base import Sandbox
from simulator.targets.moto import MOTO_INTERNAL_ACCESS_KEY, MotoTarget

pytestmark = pytest.mark.integration

FLOW = "stepfunctions:responders/stepfunctions/crypto_flow.asl.json"
TIME_SCALE = 60.0


@pytest.fixture(scope="module")
def run(moto: tuple[MotoTarget, Sandbox]) -> Iterator[ScenarioRun]:
    with scenario_run(*moto, load_scenario("crypto"), time_scale=TIME_SCALE, responder=FLOW) as live:
        yield live


def mutating(run: ScenarioRun, since_seq: int = 0) -> list[Any]:
    return [entry for entry in run.journal.entries(since_seq) if entry.mutating and entry.service != "moto"]


def finish(run: ScenarioRun, event: Any) -> dict[str, Any]:
    """Start one more execution and return its output."""
    before = len(run.responder.invocations)
    run.responder.submit(event)
    assert run.responder.wait_for_executions(before + 1, timeout=30)
    invocation = run.responder.invocations[before]
    assert invocation.outcome == "ok", (invocation.error, invocation.logs)
    return dict(invocation.result)


def test_the_state_machine_meets_every_crypto_step(run: ScenarioRun) -> None:
    assert {step_id: step.verdict for step_id, step in run.steps.items()} == {
        "notify": "met", "quarantine": "met", "revoke-credentials": "met", "snapshot": "met", "stop": "met"}
    assert all(item.held for item in run.invariants.values()), run.invariants
    assert run.blast_radius.held, run.blast_radius.detail
    [execution] = run.responder.invocations
    assert execution.outcome == "ok"
    assert execution.result["status"] == "remediated"
    assert execution.result["instance_id"] == run.env.resources["miner"]["id"]
    # Evidence gathered before containment: the role's association and the snapshots taken.
    evidence = execution.result["evidence"]
    assert evidence["profile_associations"]["associations"][0]["InstanceId"] == execution.result["instance_id"]
    assert {item["volume_id"] for item in evidence["snapshots"]} == {
        volume["id"] for volume in run.env.resources["miner"]["volumes"]}
    # Every change was made by the state machine itself, through the gateway.
    assert {entry.caller for entry in mutating(run)} == {MOTO_INTERNAL_ACCESS_KEY}


def test_the_same_finding_again_changes_nothing(run: ScenarioRun) -> None:
    since = run.journal.last_seq
    assert finish(run, run.envelope)["status"] == "duplicate"
    updated = aggregate_update(run.finding, rng=random.Random(3), occurrences=4)
    assert finish(run, wrap_in_envelope(updated, rng=random.Random(4)))["status"] == "duplicate"
    assert mutating(run, since) == []


@pytest.mark.parametrize("mangle", [
    lambda event: ["not", "an", "event"],
    lambda event: {"detail-type": "GuardDuty Finding"},
    lambda event: {**event, "detail": {**event["detail"], "type": "Recon:EC2/PortProbeUnprotectedPort"}},
    lambda event: {**event, "detail": {**event["detail"], "accountId": "999999999999"}},
    lambda event: {**event, "detail": {**event["detail"], "severity": "high"}},
    lambda event: {**event, "detail": {**event["detail"], "resource": {"resourceType": "Instance",
                                                                       "instanceDetails": {"instanceId": 42}}}},
    lambda event: {**event, "detail": {**event["detail"], "resource": {
        "resourceType": "Instance", "instanceDetails": {"instanceId": "i-0123456789abcdef0"}}}},
], ids=["not-an-object", "no-finding", "other-type", "other-account", "bad-severity", "bad-instance-id",
        "unknown-instance"])
def test_hostile_events_are_escalated_and_touch_nothing(run: ScenarioRun, mangle: Any) -> None:
    since = run.journal.last_seq
    output = finish(run, mangle(copy.deepcopy(run.envelope)))
    assert output["status"] == "rejected" and output["escalated"] is True
    assert output["reason"].startswith("event rejected")
    changes = mutating(run, since)
    pager = run.env.resources["pager"]["arn"]
    assert [(entry.operation, entry.params.get("TopicArn")) for entry in changes] == [("Publish", pager)]
    page = json.loads(changes[0].params["Message"])
    assert page["level"] == 1 and page["contact"] == "ir-oncall-primary" and page["reason"] == output["reason"]
