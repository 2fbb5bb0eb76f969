"""The responder's EventBridge rule, routed to an SQS queue the function runtime consumes.

EventBridge does the pattern matching (the real thing, in the emulator or in AWS); the harness only
chooses the target kind. SQS, because the emulator fails PutEvents for rules with SNS or Lambda
targets, and because Lambda's own async event queue is a queue too.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from simulator.errors import InputError, SandboxError
from simulator.targets.base import Sandbox

RUN_TAG = "gdsim:run-id"


@dataclass(frozen=True)
class DeliveryRoute:
    queue_url: str
    queue_arn: str
    rule_arn: str
    rule_name: str = ""
    queue_name: str = ""


def _name(run_id: str, rule_name: str, limit: int) -> str:
    """A resource name unique per run, within the service's length and character limits."""
    raw = f"{run_id}-{rule_name}" if run_id.startswith("gdsim") else f"gdsim-{run_id}-{rule_name}"
    return re.sub(r"[^A-Za-z0-9_-]", "-", raw)[:limit]


def _queue_policy(queue_arn: str, rule_arn: str) -> str:
    # What AWS requires for a rule to send to a queue; the emulator does not check it, AWS does.
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowResponderRule",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
        }],
    })


def install_rule(sandbox: Sandbox, rule_name: str, event_pattern: dict[str, Any], run_id: str, *,
                 sqs_client: Any = None, events_client: Any = None) -> DeliveryRoute:
    """Create the queue, the rule with the scenario's pattern, and the rule -> queue target.

    Pass clients to reuse them (building one costs 50-200 ms).
    """
    if not isinstance(event_pattern, dict) or not event_pattern:
        raise InputError("the event pattern must be a non-empty mapping", field="responder.rule.event_pattern",
                         fix="write an EventBridge event pattern, e.g. {source: [aws.guardduty]}")
    sqs = sqs_client or sandbox.client("sqs")
    events = events_client or sandbox.client("events")
    queue_name = _name(run_id, rule_name, 80)
    name = _name(run_id, rule_name, 64)
    tags = {RUN_TAG: run_id}
    try:
        queue_url = sqs.create_queue(QueueName=queue_name, tags=tags)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        try:
            rule_arn = events.put_rule(
                Name=name, EventPattern=json.dumps(event_pattern), State="ENABLED",
                Description=f"gdsim responder rule {rule_name}",
                Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
            )["RuleArn"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidEventPatternException":
                raise InputError(f"EventBridge refused the event pattern: {exc.response['Error'].get('Message')}",
                                 field="responder.rule.event_pattern",
                                 fix="see the EventBridge event pattern syntax") from exc
            raise
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": _queue_policy(queue_arn, rule_arn)})
        result = events.put_targets(Rule=name, Targets=[{"Id": "gdsim-delivery", "Arn": queue_arn}])
    except ClientError as exc:
        raise SandboxError(f"installing the responder rule {rule_name!r} failed: {exc}") from exc
    if result.get("FailedEntryCount"):
        raise SandboxError(f"EventBridge refused the SQS target of rule {rule_name!r}: {result['FailedEntries']}")
    return DeliveryRoute(queue_url=queue_url, queue_arn=queue_arn, rule_arn=rule_arn,
                         rule_name=name, queue_name=queue_name)


WARMUP_SOURCE = "gdsim.warmup"


def warm_delivery(sandbox: Sandbox, run_id: str, *, sqs_client: Any = None, events_client: Any = None) -> None:
    """Deliver one throwaway event through a throwaway rule and queue, then remove both.

    moto builds its target-input parser on the first event a rule delivers (~0.15 s, once per server
    process); paying that before injection keeps it out of the measured response times. Call it before
    installing the responder's rule, which would otherwise see the warm-up event if its pattern matched
    the source gdsim.warmup. Meant for emulators: on AWS it costs a few calls and gains nothing.
    """
    route = install_rule(sandbox, "warmup", {"source": [WARMUP_SOURCE]}, run_id,
                         sqs_client=sqs_client, events_client=events_client)
    try:
        events = events_client or sandbox.client("events")
        events.put_events(Entries=[{"Source": WARMUP_SOURCE, "DetailType": "warm-up", "Detail": "{}"}])
    finally:
        remove_rule(sandbox, route, sqs_client=sqs_client, events_client=events_client)


def remove_rule(sandbox: Sandbox, route: DeliveryRoute, *, sqs_client: Any = None,
                events_client: Any = None) -> None:
    """Undo install_rule; missing pieces are fine (clean-up must always finish)."""
    events = events_client or sandbox.client("events")
    sqs = sqs_client or sandbox.client("sqs")
    for action in (
        lambda: events.remove_targets(Rule=route.rule_name, Ids=["gdsim-delivery"]),
        lambda: events.delete_rule(Name=route.rule_name),
        lambda: sqs.delete_queue(QueueUrl=route.queue_url),
    ):
        with contextlib.suppress(ClientError):
            action()
