"""Notification observers: a message on the on-call topic, an escalation page of a given level.

SNS keeps no record of what it delivered, so each observer subscribes a harness-owned SQS queue to
its topic before injection and reads what arrives there.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from simulator.errors import InputError
from simulator.observers.base import Observer, flatten_strings
from simulator.observers.clients import sandbox_client
from simulator.observers.registry import register
from simulator.targets.base import Sandbox

# Received messages stay invisible for the whole run, so nothing is read twice and nothing is deleted.
_INVISIBLE_SECONDS = "43200"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One SNS notification as it reached the harness's queue."""

    message_id: str
    topic_arn: str
    subject: str
    message: str
    attributes: dict[str, str]  # message attribute name -> value

    def mentions(self, text: str) -> bool:
        return text in self.message or text in self.subject


def delivery_from_body(body: str) -> Delivery | None:
    """Read SNS's JSON envelope (the default, non-raw delivery to SQS)."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return None
    if not isinstance(envelope, dict) or "Message" not in envelope:
        return None
    attributes = {
        name: str(value.get("Value", "")) for name, value in (envelope.get("MessageAttributes") or {}).items()
        if isinstance(value, Mapping)
    }
    return Delivery(
        message_id=str(envelope.get("MessageId", "")), topic_arn=str(envelope.get("TopicArn", "")),
        subject=str(envelope.get("Subject") or ""), message=str(envelope.get("Message", "")),
        attributes=attributes,
    )


def _number(value: Any) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def page_fields(message: str, attributes: Mapping[str, str]) -> tuple[int | None, str | None]:
    """(level, finding id) of a page: the JSON body's ``level``/``finding_id``, else the ``level`` attribute."""
    level: int | None = None
    finding_id: str | None = None
    try:
        body = json.loads(message)
    except ValueError:
        body = None
    if isinstance(body, dict):
        level = _number(body.get("level"))
        finding_id = body.get("finding_id") if isinstance(body.get("finding_id"), str) else None
    if level is None:
        level = _number(attributes.get("level"))
    return level, finding_id


def published_page_fields(params: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """Page fields of a Publish request as the journal decoded it (boto3 parameter names)."""
    attributes = {
        name: str(value.get("StringValue", "")) for name, value in (params.get("MessageAttributes") or {}).items()
        if isinstance(value, Mapping)
    }
    return page_fields(str(params.get("Message", "")), attributes)


class TopicListener:
    """A harness-owned queue subscribed to one topic, collecting every delivery once."""

    def __init__(self, topic_arn: str) -> None:
        self.topic_arn = topic_arn
        self.queue_url: str | None = None
        self.subscription_arn: str | None = None
        self.deliveries: list[Delivery] = []
        self._seen: set[str] = set()

    def subscribe(self, sandbox: Sandbox) -> None:
        sqs = sandbox_client(sandbox, "sqs")
        name = f"gdsim-observer-{uuid.uuid4().hex[:12]}"
        self.queue_url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": _INVISIBLE_SECONDS})[
            "QueueUrl"
        ]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.subscription_arn = sandbox_client(sandbox, "sns").subscribe(
            TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True
        )["SubscriptionArn"]

    def drain(self, sandbox: Sandbox) -> list[Delivery]:
        """Read what arrived since the last drain; returns the new deliveries."""
        if not self.queue_url:
            raise RuntimeError("TopicListener.drain() before subscribe()")
        sqs = sandbox_client(sandbox, "sqs")
        fresh: list[Delivery] = []
        while True:
            messages = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            for message in messages:
                delivery = delivery_from_body(message.get("Body", ""))
                key = delivery.message_id if delivery and delivery.message_id else message["MessageId"]
                if delivery is not None and key not in self._seen:
                    self._seen.add(key)
                    fresh.append(delivery)
            if len(messages) < 10:
                break
        self.deliveries.extend(fresh)
        return fresh

    def close(self, sandbox: Sandbox) -> None:
        try:
            if self.subscription_arn:
                sandbox_client(sandbox, "sns").unsubscribe(SubscriptionArn=self.subscription_arn)
            if self.queue_url:
                sandbox_client(sandbox, "sqs").delete_queue(QueueUrl=self.queue_url)
        except ClientError:
            pass  # the sandbox is being torn down anyway; a leftover queue there harms nothing
        self.subscription_arn = self.queue_url = None


class _TopicObserver(Observer):
    causing_operations = frozenset({"Publish", "PublishBatch"})

    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        self.topic_arn: str = self.resource("topic")["arn"]
        self.resource_ids.add(self.topic_arn)
        self.listener = TopicListener(self.topic_arn)

    def prepare(self, sandbox: Sandbox) -> None:
        super().prepare(sandbox)
        self.listener.subscribe(sandbox)

    def cleanup(self, sandbox: Sandbox) -> None:
        self.listener.close(sandbox)


@register("notification_delivered", "topic")
class NotificationDelivered(_TopicObserver):
    """A message mentioning the finding id arrived on the topic."""

    def check(self, sandbox: Sandbox) -> bool:
        self.listener.drain(sandbox)
        if not self.finding_id:
            self.detail = "the finding has no id to look for"
            return False
        if any(delivery.mentions(self.finding_id) for delivery in self.listener.deliveries):
            self.detail = None
            return True
        count = len(self.listener.deliveries)
        self.detail = f"{count} message(s) on the topic, none naming finding {self.finding_id}"
        return False

    def is_causing(self, entry: Any) -> bool:
        if not super().is_causing(entry):
            return False
        return not self.finding_id or any(self.finding_id in text for text in flatten_strings(entry.params))


@register("escalation_paged", "level", optional=("topic",))
class EscalationPaged(_TopicObserver):
    """A page of the given level (JSON ``level`` or message attribute ``level``) arrived on the escalation
    topic. A page that names another finding does not count."""

    @classmethod
    def defaults_from(cls, scenario: Any) -> dict[str, str]:
        escalation = getattr(scenario, "escalation", None)
        topic = getattr(escalation, "topic", None)
        return {"topic": topic} if topic else {}

    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        level = _number(self.params.get("level"))
        if level is None:
            raise InputError(f"escalation level {self.params.get('level')!r} is not a whole number",
                             field="expect.escalation_paged.level", fix="write level: 1")
        self.level = level

    def _is_page(self, level: int | None, finding_id: str | None) -> bool:
        return level == self.level and (finding_id is None or finding_id == self.finding_id)

    def check(self, sandbox: Sandbox) -> bool:
        self.listener.drain(sandbox)
        pages = [page_fields(d.message, d.attributes) for d in self.listener.deliveries]
        if any(self._is_page(level, finding_id) for level, finding_id in pages):
            self.detail = None
            return True
        levels = sorted({level for level, _ in pages if level is not None})
        self.detail = f"no level {self.level} page" + (f" (levels paged: {levels})" if levels else "")
        return False

    def is_causing(self, entry: Any) -> bool:
        if not super().is_causing(entry):
            return False
        if entry.operation != "Publish":
            return True
        level, finding_id = published_page_fields(entry.params)
        return level is None or self._is_page(level, finding_id)
