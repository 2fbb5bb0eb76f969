"""boto3 clients through the gateway to a real moto server: calls work as direct ones, and are journaled."""

from __future__ import annotations

import io
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from simulator.gateway import Fault, Gateway, JournalEntry, RequestInfo
from simulator.targets.base import Credentials, Sandbox

pytestmark = pytest.mark.integration

NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def gateway(gateway: Gateway, sandbox: Sandbox) -> Gateway:
    """The shared gateway (conftest.py), telling the harness's own calls apart."""
    gateway.label_caller(sandbox.credentials.access_key_id, "harness")
    return gateway


@pytest.fixture(autouse=True)
def no_faults(gateway: Gateway) -> Iterator[None]:
    yield
    gateway.fault_hook = None


@pytest.fixture(scope="module")
def responder(sandbox: Sandbox, gateway: Gateway) -> Credentials:
    iam = sandbox.client("iam")
    iam.create_user(UserName="responder")
    key = iam.create_access_key(UserName="responder")["AccessKey"]
    gateway.label_caller(key["AccessKeyId"], "responder")
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def client(sandbox: Sandbox, gateway: Gateway, service: str, credentials: Credentials | None = None,
           config: Config | None = None) -> Any:
    return sandbox.session(credentials).client(service, endpoint_url=gateway.url, config=config or NO_RETRIES)


def last(gateway: Gateway, operation: str) -> JournalEntry:
    found = [entry for entry in gateway.journal.entries() if entry.operation == operation]
    assert found, f"no {operation} in the journal"
    return found[-1]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def instance(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.client("ec2").run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1,
                                               InstanceType="t3.micro")["Instances"][0]


def test_ec2_quarantine_calls_are_forwarded_and_journaled(sandbox: Sandbox, gateway: Gateway,
                                                          responder: Credentials, instance: dict[str, Any]) -> None:
    ec2 = client(sandbox, gateway, "ec2", responder)
    group = ec2.create_security_group(GroupName=unique("isolation"), Description="quarantine",
                                      VpcId=instance["VpcId"])["GroupId"]
    before = gateway.journal.last_seq
    started = time.monotonic()
    ec2.modify_instance_attribute(InstanceId=instance["InstanceId"], Groups=[group])
    returned = time.monotonic()

    described = sandbox.client("ec2").describe_instances(InstanceIds=[instance["InstanceId"]])
    assert [g["GroupId"] for g in described["Reservations"][0]["Instances"][0]["SecurityGroups"]] == [group]
    entry = gateway.journal.entries(since_seq=before)[0]
    assert (entry.service, entry.operation, entry.region, entry.status) == (
        "ec2", "ModifyInstanceAttribute", "us-east-1", 200)
    assert entry.caller == responder.access_key_id
    assert entry.resource_ids == (instance["InstanceId"], group)
    assert entry.params == {"InstanceId": instance["InstanceId"], "Groups": [group]}
    assert entry.mutating and entry.error_code is None and entry.fault is None
    assert started <= entry.mono_start <= entry.mono <= returned
    assert abs(entry.wall - time.time()) < 60
    assert gateway.journal.entries(since_seq=before, label="responder") == [entry]


def test_reads_are_not_mutating_and_errors_carry_their_code(sandbox: Sandbox, gateway: Gateway,
                                                            responder: Credentials) -> None:
    ec2 = client(sandbox, gateway, "ec2", responder)
    ec2.describe_instances()
    assert not last(gateway, "DescribeInstances").mutating
    with pytest.raises(ClientError) as raised:
        ec2.stop_instances(InstanceIds=["i-0123456789abcdef0"])
    entry = last(gateway, "StopInstances")
    assert entry.status == 400
    assert entry.error_code == raised.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"


def test_iam_key_deactivation_is_journaled_with_the_callers_key(sandbox: Sandbox, gateway: Gateway,
                                                                 responder: Credentials) -> None:
    iam_direct = sandbox.client("iam")
    name = unique("alice")
    iam_direct.create_user(UserName=name)
    key = iam_direct.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]

    client(sandbox, gateway, "iam", responder).update_access_key(UserName=name, AccessKeyId=key, Status="Inactive")

    keys = iam_direct.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert keys[0]["Status"] == "Inactive"
    entry = last(gateway, "UpdateAccessKey")
    assert (entry.service, entry.caller, entry.resource_ids) == ("iam", responder.access_key_id, (name, key))


def test_s3_put_with_expect_continue_and_get(sandbox: Sandbox, gateway: Gateway) -> None:
    s3 = client(sandbox, gateway, "s3")
    bucket = unique("evidence")
    s3.create_bucket(Bucket=bucket)
    payload = b"forensic bytes " * 1000
    s3.put_object(Bucket=bucket, Key="disk/image.bin", Body=io.BytesIO(payload))  # file-like: Expect: 100-continue

    assert s3.get_object(Bucket=bucket, Key="disk/image.bin")["Body"].read() == payload
    entry = last(gateway, "PutObject")
    assert (entry.service, entry.status, entry.resource_ids) == ("s3", 200, (bucket,))
    assert entry.params["Key"] == "disk/image.bin"
    assert entry.caller == sandbox.credentials.access_key_id
    assert gateway.journal.label_of(entry.caller) == "harness"


def test_sqs_queue_urls_name_the_gateway(sandbox: Sandbox, gateway: Gateway) -> None:
    sqs = client(sandbox, gateway, "sqs")
    url = sqs.create_queue(QueueName=unique("deliveries"))["QueueUrl"]
    assert url.startswith(gateway.url + "/")
    sqs.send_message(QueueUrl=url, MessageBody="finding")
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert [message["Body"] for message in messages] == ["finding"]
    assert last(gateway, "SendMessage").resource_ids == (url,)
    assert not last(gateway, "ReceiveMessage").mutating


def test_sns_publish_is_journaled_with_its_message_attributes(sandbox: Sandbox, gateway: Gateway,
                                                              responder: Credentials) -> None:
    topic = sandbox.client("sns").create_topic(Name=unique("pager"))["TopicArn"]
    client(sandbox, gateway, "sns", responder).publish(
        TopicArn=topic, Message='{"level": 2, "finding_id": "f1"}',
        MessageAttributes={"level": {"DataType": "Number", "StringValue": "2"}})
    entry = last(gateway, "Publish")
    assert entry.resource_ids == (topic,)
    assert entry.params["MessageAttributes"] == {"level": {"DataType": "Number", "StringValue": "2"}}
    assert entry.mutating


def test_throttling_fault_is_seen_by_boto3_as_request_limit_exceeded(sandbox: Sandbox, gateway: Gateway,
                                                                     responder: Credentials,
                                                                     instance: dict[str, Any]) -> None:
    asked: list[RequestInfo] = []

    def throttle_stops(info: RequestInfo) -> Fault | None:
        asked.append(info)
        return Fault.throttle(info) if info.operation == "StopInstances" else None

    gateway.fault_hook = throttle_stops
    ec2 = client(sandbox, gateway, "ec2", responder)
    with pytest.raises(ClientError) as raised:
        ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
    assert raised.value.response["Error"]["Code"] == "RequestLimitExceeded"
    state = sandbox.client("ec2").describe_instances(InstanceIds=[instance["InstanceId"]])
    assert state["Reservations"][0]["Instances"][0]["State"]["Name"] == "running"  # never reached moto
    entry = last(gateway, "StopInstances")
    assert (entry.status, entry.error_code, entry.fault) == (503, "RequestLimitExceeded", "throttle")
    assert asked[-1].resource_ids == (instance["InstanceId"],) and asked[-1].caller == responder.access_key_id


def test_sdk_retries_after_throttling_are_each_journaled(sandbox: Sandbox, gateway: Gateway) -> None:
    throttled: list[int] = []

    def throttle_once(info: RequestInfo) -> Fault | None:
        if info.operation == "DescribeVpcs" and not throttled:
            throttled.append(1)
            return Fault.throttle(info)
        return None

    gateway.fault_hook = throttle_once
    before = gateway.journal.last_seq
    client(sandbox, gateway, "ec2", config=Config(retries={"max_attempts": 3, "mode": "standard"})).describe_vpcs()
    attempts = [(entry.status, entry.fault) for entry in gateway.journal.entries(since_seq=before)]
    assert attempts == [(503, "throttle"), (200, None)]


def test_reset_fault_surfaces_as_a_connection_error(sandbox: Sandbox, gateway: Gateway) -> None:
    gateway.fault_hook = lambda info: Fault.connection_reset() if info.operation == "ListTopics" else None
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        client(sandbox, gateway, "sns").list_topics()
    entry = last(gateway, "ListTopics")
    assert (entry.status, entry.fault) == (0, "reset")


def test_wait_for_sees_a_call_made_meanwhile(sandbox: Sandbox, gateway: Gateway) -> None:
    since = gateway.journal.last_seq
    ec2 = client(sandbox, gateway, "ec2")
    worker = threading.Timer(0.05, lambda: ec2.describe_availability_zones())
    worker.start()
    try:
        entry = gateway.journal.wait_for(lambda item: item.operation == "DescribeAvailabilityZones", timeout=15,
                                         since_seq=since)
    finally:
        worker.join()
    assert entry is not None and entry.seq > since
