"""CloudTrail LookupEvents through a boto3 cloudtrail client, built from calls that went through the gateway."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from simulator.gateway import Gateway
from simulator.targets.base import Credentials, Sandbox

pytestmark = pytest.mark.integration

NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def story(sandbox: Sandbox, gateway: Gateway) -> dict[str, Any]:
    """A compromised user launches a miner; a responder stops it and deactivates the user's key."""
    iam = sandbox.client("iam")
    actors = {}
    for name in ("mallory", "responder"):
        iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        actors[name] = Credentials(key["AccessKeyId"], key["SecretAccessKey"])

    def ec2(who: str) -> Any:
        return sandbox.session(actors[who]).client("ec2", endpoint_url=gateway.url, config=NO_RETRIES)

    ec2("mallory").describe_regions()
    instance = ec2("mallory").run_instances(ImageId="ami-0123456789abcdef0", MinCount=1,
                                            MaxCount=1)["Instances"][0]["InstanceId"]
    ec2("responder").stop_instances(InstanceIds=[instance])
    sandbox.session(actors["responder"]).client("iam", endpoint_url=gateway.url, config=NO_RETRIES) \
        .update_access_key(UserName="mallory", AccessKeyId=actors["mallory"].access_key_id, Status="Inactive")
    return {"instance": instance, "actors": actors}


@pytest.fixture(scope="module")
def cloudtrail(sandbox: Sandbox, gateway: Gateway) -> Any:
    return sandbox.client("cloudtrail", endpoint_url=gateway.url)


def lookup(cloudtrail: Any, key: str, value: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = cloudtrail.lookup_events(
        LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])["Events"]
    return events


def test_events_of_a_user_resolved_from_the_sandboxes_iam(cloudtrail: Any, story: dict[str, Any]) -> None:
    events = lookup(cloudtrail, "Username", "mallory")
    assert [event["EventName"] for event in events] == ["RunInstances", "DescribeRegions"]
    run = events[0]
    assert run["AccessKeyId"] == story["actors"]["mallory"].access_key_id
    assert run["EventSource"] == "ec2.amazonaws.com"
    assert isinstance(run["EventTime"], datetime)
    assert abs(run["EventTime"] - datetime.now(UTC)) < timedelta(minutes=5)
    assert {"ResourceType": "AWS::EC2::Instance", "ResourceName": story["instance"]} in run["Resources"]
    record = json.loads(run["CloudTrailEvent"])
    assert record["userIdentity"]["type"] == "IAMUser"
    assert record["userIdentity"]["arn"].endswith(":user/mallory")
    assert record["eventName"] == "RunInstances" and record["readOnly"] is False


def test_events_around_an_instance(cloudtrail: Any, story: dict[str, Any]) -> None:
    events = lookup(cloudtrail, "ResourceName", story["instance"])
    assert [(event["EventName"], event["Username"]) for event in events] == [
        ("StopInstances", "responder"), ("RunInstances", "mallory")]


def test_events_naming_an_access_key(cloudtrail: Any, story: dict[str, Any]) -> None:
    events = lookup(cloudtrail, "ResourceName", story["actors"]["mallory"].access_key_id)
    assert [(event["EventName"], event["EventSource"]) for event in events] == [
        ("UpdateAccessKey", "iam.amazonaws.com")]


def test_the_paginator_walks_every_event(cloudtrail: Any, story: dict[str, Any], gateway: Gateway) -> None:
    pages = list(cloudtrail.get_paginator("lookup_events").paginate(PaginationConfig={"PageSize": 1}))
    events = [event for page in pages for event in page["Events"]]
    assert len(pages) >= 3
    assert len({event["EventId"] for event in events}) == len(events)
    assert {"RunInstances", "StopInstances", "UpdateAccessKey"} <= {event["EventName"] for event in events}


def test_time_window(cloudtrail: Any, story: dict[str, Any]) -> None:
    future = datetime.now(UTC) + timedelta(hours=1)
    assert cloudtrail.lookup_events(StartTime=future)["Events"] == []
    assert cloudtrail.lookup_events(EndTime=future, MaxResults=1)["Events"]


def test_invalid_lookups_are_client_errors(cloudtrail: Any) -> None:
    with pytest.raises(ClientError) as raised:
        cloudtrail.lookup_events(LookupAttributes=[
            {"AttributeKey": "Username", "AttributeValue": "a"}, {"AttributeKey": "EventName", "AttributeValue": "b"}])
    assert raised.value.response["Error"]["Code"] == "InvalidLookupAttributesException"


def test_lookups_are_journaled_and_other_cloudtrail_calls_reach_the_sandbox(cloudtrail: Any,
                                                                             gateway: Gateway) -> None:
    cloudtrail.lookup_events(MaxResults=1)
    assert gateway.journal.entries()[-1].operation == "LookupEvents"
    assert cloudtrail.describe_trails()["trailList"] == []  # answered by moto
    assert gateway.journal.entries()[-1].operation == "DescribeTrails"
