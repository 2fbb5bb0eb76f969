"""The crypto scenario's own rule, environment and responder, wired through injection and delivery."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from simulator.delivery.inject import inject_event
from simulator.delivery.rules import install_rule
from simulator.delivery.runtime import FunctionRuntime
from simulator.findings import aggregate_update, generate_finding, wrap_in_envelope
from simulator.provision import provision
from simulator.scenario import load_scenario
from simulator.targets.base import Credentials, Sandbox
from simulator.targets.moto import MotoTarget

pytestmark = pytest.mark.integration

RUN_ID = "gdsim-20260101T000000-d311"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    target = MotoTarget()
    try:
        yield target.start()
    finally:
        target.stop()


def test_a_published_finding_reaches_the_reference_responder_once_per_finding(sandbox: Sandbox) -> None:
    scenario = load_scenario("crypto")
    env = provision(scenario, sandbox, RUN_ID)
    responder = scenario.responder
    route = install_rule(sandbox, responder.rule.name, responder.rule.event_pattern, RUN_ID)
    runtime = FunctionRuntime(
        responder.handler, env={k: env.resolve(v) for k, v in responder.environment.items()},
        endpoint_url=sandbox.endpoint_url, credentials=Credentials("AKIARESPONDER0000001", "responder-secret"),
        region=sandbox.region, queue_url=route.queue_url, sandbox=sandbox,
        timeout_seconds=responder.timeout_seconds, time_scale=60.0, max_retries=responder.retries)
    rng = random.Random(11)
    finding = generate_finding(scenario.finding_types[0], rng=rng, account_id=sandbox.account_id,
                               region=sandbox.region, resource=env.resources["miner"], now=datetime.now(UTC))
    with runtime:
        inject_event(sandbox, wrap_in_envelope(finding, rng=rng))
        assert runtime.wait_for_invocations(1, timeout=60)
        inject_event(sandbox, wrap_in_envelope(aggregate_update(finding, rng=rng, occurrences=2), rng=rng))
        assert runtime.wait_for_invocations(2, timeout=60)
        assert runtime.wait_idle(timeout=60)

    first, update = runtime.invocations
    assert first.outcome == "ok", (first.error, first.logs)
    assert first.result["status"] == "remediated", first.result
    assert first.result["instance_id"] == env.resources["miner"]["id"]
    assert update.result["status"] == "duplicate"
    assert runtime.dead_letters == []
    snapshots = sandbox.client("ec2").describe_snapshots(OwnerIds=["self"], Filters=[
        {"Name": "tag:gdsim:finding-id", "Values": [finding["id"]]}])["Snapshots"]
    assert {s["VolumeId"] for s in snapshots} == {v["id"] for v in env.resources["miner"]["volumes"]}
