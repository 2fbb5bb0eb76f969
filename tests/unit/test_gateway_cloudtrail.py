"""LookupEvents built from the journal: attributes, time range, paging, records, errors."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from simulator.gateway.cloudtrail import CallContext, CloudTrailLookup
from simulator.gateway.identities import Identities, Identity
from simulator.gateway.journal import Journal, JournalEntry
from simulator.gateway.local import ApiError
from simulator.gateway.resources import NamedResource

ALICE_KEY = "AKIAALICE00000000001"
RESPONDER_KEY = "AKIARESPONDER0000001"


def append(journal: Journal, operation: str, caller: str, params: dict[str, Any], *, service: str = "ec2",
           wall: float | None = None, status: int = 200, error_code: str | None = None,
           mutating: bool = True) -> JournalEntry:
    now = time.monotonic()
    return journal.append(JournalEntry(
        seq=0, mono=now, mono_start=now - 0.002, wall=wall or time.time(), service=service, operation=operation,
        region="us-east-1", caller=caller, resource_ids=(), params=params, status=status, error_code=error_code,
        fault=None, mutating=mutating,
    ))


@pytest.fixture
def trail() -> CloudTrailLookup:
    journal = Journal()
    identities = Identities("123456789012")
    identities.register(ALICE_KEY, Identity("IAMUser", "alice", "arn:aws:iam::123456789012:user/alice", "AIDAALICE",
                                            "123456789012"))
    identities.register(RESPONDER_KEY, Identity("IAMUser", "responder", "arn:aws:iam::123456789012:user/responder",
                                                "AIDARESP", "123456789012"))
    trail = CloudTrailLookup(journal, identities, account_id="123456789012", region="us-east-1")
    base = time.time() - 100
    append(journal, "DescribeInstances", ALICE_KEY, {}, wall=base, mutating=False)
    append(journal, "RunInstances", ALICE_KEY, {"ImageId": "ami-0123456789abcdef0"}, wall=base + 10)
    append(journal, "ModifyInstanceAttribute", RESPONDER_KEY,
           {"InstanceId": "i-0123456789abcdef0", "Groups": ["sg-0123456789abcdef0"]}, wall=base + 20)
    append(journal, "UpdateAccessKey", RESPONDER_KEY,
           {"UserName": "alice", "AccessKeyId": ALICE_KEY, "Status": "Inactive"}, service="iam", wall=base + 30)
    append(journal, "StopInstances", RESPONDER_KEY, {"InstanceIds": ["i-0123456789abcdef0"]}, wall=base + 40,
           status=503, error_code="RequestLimitExceeded")
    trail.note(2, CallContext("10.1.2.3", "aws-cli/2", "req-2",
                              (NamedResource("AWS::EC2::Instance", "i-0123456789abcdef0"),)))
    return trail


def names(document: dict[str, Any]) -> list[str]:
    return [event["EventName"] for event in document["Events"]]


def test_events_come_newest_first_with_the_api_fields(trail: CloudTrailLookup) -> None:
    document = trail.lookup({})
    assert names(document) == ["StopInstances", "UpdateAccessKey", "ModifyInstanceAttribute", "RunInstances",
                               "DescribeInstances"]
    event = document["Events"][2]
    assert event["Username"] == "responder"
    assert event["AccessKeyId"] == RESPONDER_KEY
    assert event["EventSource"] == "ec2.amazonaws.com"
    assert event["ReadOnly"] == "false"
    assert {"ResourceType": "AWS::EC2::Instance", "ResourceName": "i-0123456789abcdef0"} in event["Resources"]
    assert "NextToken" not in document


def test_the_record_is_shaped_like_cloudtrail(trail: CloudTrailLookup) -> None:
    events = trail.lookup({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "RunInstances"}]})
    record = json.loads(events["Events"][0]["CloudTrailEvent"])
    assert record["userIdentity"] == {"type": "IAMUser", "principalId": "AIDAALICE",
                                      "arn": "arn:aws:iam::123456789012:user/alice", "accountId": "123456789012",
                                      "accessKeyId": ALICE_KEY, "userName": "alice"}
    assert (record["eventSource"], record["eventName"], record["awsRegion"]) == (
        "ec2.amazonaws.com", "RunInstances", "us-east-1")
    assert (record["sourceIPAddress"], record["userAgent"], record["requestID"]) == ("10.1.2.3", "aws-cli/2", "req-2")
    assert record["requestParameters"] == {"imageId": "ami-0123456789abcdef0"}
    assert record["eventID"] == events["Events"][0]["EventId"]
    assert record["readOnly"] is False and record["eventType"] == "AwsApiCall"
    assert record["eventTime"].endswith("Z")
    # The instance RunInstances created is a resource of its event, as CloudTrail shows it.
    assert {"ResourceType": "AWS::EC2::Instance", "ResourceName": "i-0123456789abcdef0"} in \
        events["Events"][0]["Resources"]


def test_failed_calls_carry_their_error_code(trail: CloudTrailLookup) -> None:
    events = trail.lookup({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "StopInstances"}]})
    assert json.loads(events["Events"][0]["CloudTrailEvent"])["errorCode"] == "RequestLimitExceeded"


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("Username", "alice", ["RunInstances", "DescribeInstances"]),
    ("AccessKeyId", RESPONDER_KEY, ["StopInstances", "UpdateAccessKey", "ModifyInstanceAttribute"]),
    ("EventName", "UpdateAccessKey", ["UpdateAccessKey"]),
    ("EventSource", "iam.amazonaws.com", ["UpdateAccessKey"]),
    ("ReadOnly", "true", ["DescribeInstances"]),
    ("ResourceName", "i-0123456789abcdef0", ["StopInstances", "ModifyInstanceAttribute", "RunInstances"]),
    ("ResourceType", "AWS::IAM::AccessKey", ["UpdateAccessKey"]),
    ("ResourceName", "alice", ["UpdateAccessKey"]),
])
def test_lookup_attributes(trail: CloudTrailLookup, key: str, value: str, expected: list[str]) -> None:
    assert names(trail.lookup({"LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}]})) == expected


def test_event_id_attribute_finds_exactly_one(trail: CloudTrailLookup) -> None:
    wanted = trail.lookup({})["Events"][1]["EventId"]
    found = trail.lookup({"LookupAttributes": [{"AttributeKey": "EventId", "AttributeValue": wanted}]})
    assert [event["EventId"] for event in found["Events"]] == [wanted]


def test_time_range(trail: CloudTrailLookup) -> None:
    entries = trail.journal.entries()
    start = entries[1].wall - entries[1].duration
    end = entries[3].wall - entries[3].duration
    assert names(trail.lookup({"StartTime": start, "EndTime": end})) == [
        "UpdateAccessKey", "ModifyInstanceAttribute", "RunInstances"]


def test_paging_visits_every_event_once(trail: CloudTrailLookup) -> None:
    seen: list[str] = []
    body: dict[str, Any] = {"MaxResults": 2}
    pages = 0
    while True:
        document = trail.lookup(body)
        pages += 1
        seen.extend(event["EventId"] for event in document["Events"])
        if "NextToken" not in document:
            break
        body = {"MaxResults": 2, "NextToken": document["NextToken"]}
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5


def test_emulator_control_calls_and_dropped_connections_are_no_events(trail: CloudTrailLookup) -> None:
    append(trail.journal, "reset", "", {}, service="moto")
    append(trail.journal, "StopInstances", RESPONDER_KEY, {}, status=0)
    assert len(trail.lookup({})["Events"]) == 5


@pytest.mark.parametrize(("body", "code"), [
    ({"LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": "a"},
                           {"AttributeKey": "EventName", "AttributeValue": "b"}]}, "InvalidLookupAttributesException"),
    ({"LookupAttributes": [{"AttributeKey": "Colour", "AttributeValue": "red"}]}, "InvalidLookupAttributesException"),
    ({"LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": ""}]}, "InvalidLookupAttributesException"),
    ({"MaxResults": 51}, "InvalidMaxResultsException"),
    ({"MaxResults": 0}, "InvalidMaxResultsException"),
    ({"StartTime": 200, "EndTime": 100}, "InvalidTimeRangeException"),
    ({"NextToken": "garbage!"}, "InvalidNextTokenException"),
])
def test_invalid_requests_get_the_api_errors(trail: CloudTrailLookup, body: dict[str, Any], code: str) -> None:
    with pytest.raises(ApiError) as raised:
        trail.lookup(body)
    assert raised.value.code == code


def test_unknown_keys_are_the_account_root() -> None:
    identity = Identities("123456789012").resolve("AKIANOBODY0000000001")
    assert (identity.type, identity.user_name, identity.arn) == ("Root", "root", "arn:aws:iam::123456789012:root")


def test_contexts_of_forgotten_entries_are_let_go_and_kept_entries_keep_theirs() -> None:
    journal = Journal()
    trail = CloudTrailLookup(journal, Identities("123456789012"), account_id="123456789012", region="us-east-1")
    total = 5000
    for number in range(1, total + 1):
        entry = append(journal, "CreateTags", RESPONDER_KEY, {}, mutating=True)
        trail.note(entry.seq, CallContext("10.0.0.9", "Boto3/1.35", f"req-{number}"))
        journal.forget(entry.seq - 100)  # a storm keeps a window of recent calls

    # Bounded by the window, not by the calls made.
    assert trail.contexts_kept <= 2 * 100 + 1000 + 1
    [newest] = journal.entries(since_seq=total - 1)
    record = json.loads(trail.event(newest)["CloudTrailEvent"])
    assert (record["sourceIPAddress"], record["userAgent"], record["requestID"]) == (
        "10.0.0.9", "Boto3/1.35", f"req-{total}")
