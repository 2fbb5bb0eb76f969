"""Injection and delivery through a real moto server: rule pattern matching, SQS, the function runtime."""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.delivery.inject import InjectionError, inject_event
from simulator.delivery.reconcile import ENVELOPE_KEYS
from simulator.delivery.rules import DeliveryRoute, install_rule, remove_rule, warm_delivery
from simulator.delivery.runtime import PREFETCH, FunctionRuntime
from simulator.errors import InputError
from simulator.targets.base import Credentials, Sandbox
from simulator.targets.moto import MotoTarget

pytestmark = pytest.mark.integration

CRYPTO_PATTERN = {
    "source": ["aws.guardduty"],
    "detail-type": ["GuardDuty Finding"],
    "detail": {"type": [{"prefix": "CryptoCurrency:EC2/"}]},
}


@pytest.fixture(scope="module")
def moto() -> Iterator[Sandbox]:
    target = MotoTarget(load_managed_policies=False, preload=())
    try:
        yield target.start()
    finally:
        target.stop()


@pytest.fixture
def sandbox(moto: Sandbox) -> Sandbox:
    urllib.request.urlopen(urllib.request.Request(f"{moto.endpoint_url}/moto-api/reset", method="POST")).close()
    return moto


def envelope(finding_type: str, *, severity: float = 8.0) -> dict[str, Any]:
    finding_id = uuid.uuid4().hex
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "GuardDuty Finding", "source": "aws.guardduty",
        "account": "123456789012", "time": "2024-05-01T10:15:00Z", "region": "us-east-1", "resources": [],
        "detail": {"schemaVersion": "2.0", "accountId": "123456789012", "region": "us-east-1", "id": finding_id,
                   "type": finding_type, "severity": severity,
                   "resource": {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-0123456789abcdef0"}}},
    }


def drain(sandbox: Sandbox, route: DeliveryRoute) -> list[dict[str, Any]]:
    sqs = sandbox.client("sqs")
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=route.queue_url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=route.queue_url, ReceiptHandle=message["ReceiptHandle"])


def test_the_rule_routes_matching_events_and_only_those(sandbox: Sandbox) -> None:
    route = install_rule(sandbox, "crypto-responder", CRYPTO_PATTERN, "run-1")
    other = inject_event(sandbox, envelope("Trojan:EC2/DropPoint"))
    wanted = envelope("CryptoCurrency:EC2/BitcoinTool.B!DNS")
    crypto = inject_event(sandbox, wanted)

    delivered = drain(sandbox, route)

    assert [event["id"] for event in delivered] == [crypto.event_id]
    assert other.event_id != crypto.event_id
    event = delivered[0]
    assert event["detail"] == wanted["detail"]
    assert (event["source"], event["detail-type"], event["time"], event["resources"]) == (
        "aws.guardduty", "GuardDuty Finding", "2024-05-01T10:15:00Z", [])


def test_numeric_patterns_are_matched_by_eventbridge(sandbox: Sandbox) -> None:
    route = install_rule(sandbox, "high-only", {"detail": {"severity": [{"numeric": [">=", 7]}]}}, "run-2")
    inject_event(sandbox, envelope("CryptoCurrency:EC2/BitcoinTool.B", severity=5.0))
    high = inject_event(sandbox, envelope("CryptoCurrency:EC2/BitcoinTool.B", severity=8.0))

    assert [event["id"] for event in drain(sandbox, route)] == [high.event_id]


def test_the_route_is_named_per_run_tagged_and_allows_only_its_rule(sandbox: Sandbox) -> None:
    route = install_rule(sandbox, "crypto responder", CRYPTO_PATTERN, "run-3")

    assert route.rule_name == "gdsim-run-3-crypto-responder"
    events = sandbox.client("events")
    assert json.loads(events.describe_rule(Name=route.rule_name)["EventPattern"]) == CRYPTO_PATTERN
    targets = events.list_targets_by_rule(Rule=route.rule_name)["Targets"]
    assert [t["Arn"] for t in targets] == [route.queue_arn]
    tags = events.list_tags_for_resource(ResourceARN=route.rule_arn)["Tags"]
    assert {"Key": "gdsim:run-id", "Value": "run-3"} in tags
    policy = json.loads(sandbox.client("sqs").get_queue_attributes(
        QueueUrl=route.queue_url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    statement = policy["Statement"][0]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == route.rule_arn

    remove_rule(sandbox, route)
    remove_rule(sandbox, route)  # clean-up twice is fine
    assert route.rule_name not in [r["Name"] for r in events.list_rules()["Rules"]]


def test_warming_the_delivery_path_leaves_nothing_behind(sandbox: Sandbox) -> None:
    warm_delivery(sandbox, "run-6")

    assert sandbox.client("events").list_rules()["Rules"] == []
    assert sandbox.client("sqs").list_queues().get("QueueUrls", []) == []


def test_a_refused_pattern_or_event_is_a_clear_error(sandbox: Sandbox) -> None:
    with pytest.raises(InputError, match=r"responder\.rule\.event_pattern: EventBridge refused"):
        install_rule(sandbox, "bad", {"source": "aws.guardduty"}, "run-4")
    with pytest.raises(InjectionError, match=r"refused the event .*InvalidArgument"):
        inject_event(sandbox, {**envelope("CryptoCurrency:EC2/BitcoinTool.B"), "source": ""})
    with pytest.raises(InputError, match="lacks detail"):
        inject_event(sandbox, {"source": "aws.guardduty", "detail-type": "GuardDuty Finding"})


def runtime_on(sandbox: Sandbox, route: DeliveryRoute, handler: str) -> FunctionRuntime:
    """A function runtime fed by ``route``'s queue, calling ``handler`` as the responder."""
    return FunctionRuntime(handler, env={}, endpoint_url=sandbox.endpoint_url,
                           credentials=Credentials("AKIARESPONDER0000000", "responder-secret"),
                           region=sandbox.region, queue_url=route.queue_url, sandbox=sandbox, timeout_seconds=30)


RECORDER = """
import json, os

def handler(event, context):
    return {"pid": os.getpid(), "event": event, "arn": context.invoked_function_arn}
"""


def test_the_runtime_consumes_the_queue_and_hands_over_the_event_as_aws_delivers_it(
        sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "recorder.py").write_text(RECORDER)
    route = install_rule(sandbox, "crypto-responder", CRYPTO_PATTERN, "run-5")
    runtime = runtime_on(sandbox, route, f"{tmp_path / 'recorder.py'}:handler")
    with runtime:
        sent = envelope("CryptoCurrency:EC2/BitcoinTool.B!DNS")
        injection = inject_event(sandbox, sent)
        assert runtime.wait_for_invocations(1, timeout=30)
        assert runtime.wait_idle(timeout=30)

    [invocation] = runtime.invocations
    assert invocation.outcome == "ok", invocation.error
    assert invocation.result["pid"] != os.getpid()
    event = invocation.result["event"]
    assert event["id"] == injection.event_id == invocation.event_id
    assert invocation.finding_id == sent["detail"]["id"]
    # moto drops `account`; the runtime restores it, and the key order, before the handler sees it.
    assert event["account"] == sandbox.account_id
    assert list(event) == list(ENVELOPE_KEYS)
    assert event["detail"] == sent["detail"]
    assert invocation.received_mono is not None and invocation.received_mono >= injection.mono
    # Handed to the async machinery means gone from the queue.
    attributes = sandbox.client("sqs").get_queue_attributes(QueueUrl=route.queue_url, AttributeNames=["All"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert runtime.poll_errors == []


SLOW_RECORDER = """
import time

def handler(event, context):
    time.sleep(0.05)
    return event["detail"]["id"]
"""


def test_a_backlog_waits_in_the_queue_not_in_the_harness_and_is_all_handled(sandbox: Sandbox,
                                                                             tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(SLOW_RECORDER)
    route = install_rule(sandbox, "crypto-responder", CRYPTO_PATTERN, "run-6")
    runtime = runtime_on(sandbox, route, f"{tmp_path / 'slow.py'}:handler")
    sqs = sandbox.client("sqs")
    burst = 60
    with runtime:
        sent = [envelope("CryptoCurrency:EC2/BitcoinTool.B!DNS") for _ in range(burst)]
        for item in sent:
            inject_event(sandbox, item)
        assert runtime.wait_for_invocations(5, timeout=30)
        waiting = int(sqs.get_queue_attributes(QueueUrl=route.queue_url, AttributeNames=[
            "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
        # The function took one receive's worth ahead of itself; the rest is still the queue's.
        assert waiting >= burst - len(runtime.invocations) - 2 * PREFETCH
        assert waiting > 0
        assert runtime.wait_for_invocations(burst, timeout=60)
        assert runtime.wait_idle(timeout=30)

    assert sorted(invocation.result for invocation in runtime.invocations) == sorted(
        item["detail"]["id"] for item in sent)
    assert all(invocation.outcome == "ok" for invocation in runtime.invocations)
