"""What the responder-level tests share: a moto sandbox without managed policies, one client per service,
SNS inboxes (an SQS queue subscribed to a topic), the responder's environment and Lambda context, calling
a responder (in a worker process, or in this process for speed), and a gateway fault that throttles."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from responders.lib import aws
from simulator.delivery.context import LambdaContext
from simulator.delivery.runtime import FunctionRuntime
from simulator.gateway import Fault, RequestInfo
from simulator.targets.base import Sandbox
from simulator.targets.moto import MotoTarget

ACCOUNT, REGION = "123456789012", "us-east-1"
CONTACT = "secops-lead@example.com"
ASSUME_EC2 = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})

_clients: dict[tuple[str, str], Any] = {}


@pytest.fixture(scope="module")
def light_sandbox() -> Iterator[Sandbox]:
    """A fixture for a module's sandbox (``sandbox = calls.light_sandbox``): each test resets it and builds
    its own small world, which needs no AWS managed policies (loading them is most of a server's start)."""
    target = MotoTarget(load_managed_policies=False)
    try:
        yield target.start()
    finally:
        target.stop()


def reset(sandbox: Sandbox) -> None:
    """Empty the emulator: every test starts from a blank account."""
    urllib.request.urlopen(urllib.request.Request(f"{sandbox.endpoint_url}/moto-api/reset", method="POST")).close()


def client_of(sandbox: Sandbox, service: str) -> Any:
    """One client per sandbox and service: a new boto3 session costs ~0.2 s."""
    key = (str(sandbox.endpoint_url), service)
    if key not in _clients:
        _clients[key] = sandbox.client(service)
    return _clients[key]


def topic_arn(name: str) -> str:
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"


def subscribed_queue(sandbox: Sandbox, topic: str, name: str) -> str:
    """An SQS queue subscribed to ``topic``: the inbox of whoever the topic tells (its URL)."""
    sqs = client_of(sandbox, "sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client_of(sandbox, "sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return str(url)


def drain(sandbox: Sandbox, queue_url: str) -> list[dict[str, Any]]:
    """The SNS notifications waiting in an inbox, as SNS envelopes (moto delivers before Publish returns)."""
    sqs, found = client_of(sandbox, "sqs"), list[dict[str, Any]]()
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                       MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def messages(sandbox: Sandbox, queue_url: str) -> list[dict[str, Any]]:
    """The messages waiting in an inbox, decoded (the responders publish JSON)."""
    return [json.loads(envelope["Message"]) for envelope in drain(sandbox, queue_url)]


def topic_env(oncall: str = topic_arn("ir-oncall"), pager: str = topic_arn("ir-pager"), **more: str) -> dict[str, str]:
    """A responder's environment: its on-call and pager topics, the level-1 contact, and ``more``."""
    return {"ONCALL_TOPIC_ARN": oncall, "PAGER_TOPIC_ARN": pager, "ESCALATION_CONTACT": CONTACT, **more}


def lambda_context(function_name: str) -> LambdaContext:
    return LambdaContext(function_name=function_name, deadline_ms=int(time.time() * 1000) + 3_600_000,
                         invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}")


def invoke(runtime: FunctionRuntime, event: Any) -> dict[str, Any]:
    """The responder's answer to ``event``, run in its worker process; it must not fail."""
    invocation = runtime.invoke(event)
    assert invocation.outcome == "ok", (invocation.error, invocation.logs)
    assert invocation.worker_pid != os.getpid()
    return dict(invocation.result)


@contextmanager
def responder_environment(endpoint_url: str, access_key: str, env: dict[str, str]) -> Iterator[None]:
    """This process set up as a responder's (endpoint, region, its own key, fast runbook time, ``env``),
    for calling a handler in-process; the environment is restored afterwards."""
    saved = dict(os.environ)
    os.environ.update(env, AWS_ENDPOINT_URL=endpoint_url, AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION,
                      AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY="responder-secret",
                      GDSIM_TIME_SCALE="1000")
    aws.reset()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        aws.reset()


def throttle_twice(caller: str) -> tuple[Callable[[RequestInfo], Fault | None], dict[str, int]]:
    """A gateway fault hook throttling the first two attempts of each mutating operation ``caller`` makes,
    and the count of attempts per operation."""
    throttled: dict[str, int] = {}

    def hook(info: RequestInfo) -> Fault | None:
        if info.caller != caller or not info.mutating:
            return None
        throttled[info.operation] = throttled.get(info.operation, 0) + 1
        return Fault.throttle(info) if throttled[info.operation] <= 2 else None

    return hook, throttled
