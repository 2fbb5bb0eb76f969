"""Which journal entry dates an effect: the observers' causing calls, their resources and the poll window."""

from __future__ import annotations

import itertools
from typing import Any

from simulator.gateway.journal import JournalEntry
from simulator.observers import attribute, create_observer
from simulator.provision.environment import ProvisionedEnvironment

_seq = itertools.count(1)


def entry(mono: float, operation: str, params: dict[str, Any], resource_ids: tuple[str, ...] = (), *,
          status: int = 200, error_code: str | None = None, fault: str | None = None) -> JournalEntry:
    return JournalEntry(seq=next(_seq), mono=mono, mono_start=mono - 0.002, wall=0.0, service="ec2",
                        operation=operation, region="us-east-1", caller="AKIA", resource_ids=resource_ids,
                        params=params, status=status, error_code=error_code, fault=fault, mutating=True)


ENV = ProvisionedEnvironment(run_id="r", account_id="123456789012", region="us-east-1", resources={
    "miner": {"kind": "instance", "name": "miner", "id": "i-miner", "network_interfaces": [{"id": "eni-a"}],
              "volumes": [{"id": "vol-a", "device": "/dev/sdf"}], "instance_profile": None},
    "ir-oncall": {"kind": "topic", "name": "ir-oncall", "id": "arn:oncall", "arn": "arn:oncall"},
    "pager": {"kind": "topic", "name": "pager", "id": "arn:pager", "arn": "arn:pager"},
})


def stop(mono: float, instance_id: str = "i-miner", **kwargs: Any) -> JournalEntry:
    return entry(mono, "StopInstances", {"InstanceIds": [instance_id]}, (instance_id,), **kwargs)


def test_the_latest_causing_call_in_the_poll_window_dates_the_effect() -> None:
    observer = create_observer("instance_stopped", {"instance": "miner"}, ENV, {"id": "f"})
    entries = [stop(0.5), stop(10.10), stop(10.12, "i-other"), entry(10.13, "CreateTags", {}, ("i-miner",)),
               stop(10.14, status=400, error_code="IncorrectInstanceState"), stop(10.15, fault="throttle"),
               stop(10.30)]
    chosen = attribute(entries, observer, since_mono=1.0, window_start=10.05, poll_end=10.2)
    assert chosen is not None and chosen.mono == 10.10


def test_a_call_stamped_just_after_the_poll_saw_its_effect_still_counts() -> None:
    observer = create_observer("instance_stopped", {"instance": "miner"}, ENV, {"id": "f"})
    late_stamp = stop(10.205)  # started at 10.203, before the poll ended at 10.204
    chosen = attribute([stop(1.0), late_stamp, stop(10.3)], observer, since_mono=0.5, window_start=10.1,
                       poll_end=10.204)
    assert chosen is late_stamp


def test_without_a_call_in_the_window_the_latest_since_injection_stands() -> None:
    observer = create_observer("instance_stopped", {"instance": "miner"}, ENV, {"id": "f"})
    entries = [stop(0.5), stop(2.0)]
    chosen = attribute(entries, observer, since_mono=1.0, window_start=5.0, poll_end=6.0)
    assert chosen is not None and chosen.mono == 2.0
    assert attribute([stop(0.5)], observer, since_mono=1.0, window_start=5.0, poll_end=6.0) is None


def test_notifications_are_dated_by_the_publish_naming_the_finding_on_the_topic() -> None:
    observer = create_observer("notification_delivered", {"topic": "ir-oncall"}, ENV, {"id": "f-123"})
    entries = [
        entry(1.0, "Publish", {"TopicArn": "arn:oncall", "Message": "finding f-123"}, ("arn:oncall",)),
        entry(1.1, "Publish", {"TopicArn": "arn:oncall", "Message": "finding f-999"}, ("arn:oncall",)),
        entry(1.2, "Publish", {"TopicArn": "arn:pager", "Message": "finding f-123"}, ("arn:pager",)),
    ]
    chosen = attribute(entries, observer, since_mono=0.0, window_start=0.0, poll_end=2.0)
    assert chosen is not None and chosen.mono == 1.0


def test_pages_are_dated_by_the_publish_of_their_level() -> None:
    observer = create_observer("escalation_paged", {"level": "2", "topic": "pager"}, ENV, {"id": "f-123"})
    level = {"DataType": "Number", "StringValue": "2"}
    entries = [
        entry(1.0, "Publish", {"TopicArn": "arn:pager", "Message": '{"level": 2, "finding_id": "f-123"}'}),
        entry(1.1, "Publish", {"TopicArn": "arn:pager", "Message": '{"level": 1, "finding_id": "f-123"}'}),
        entry(1.2, "Publish", {"TopicArn": "arn:pager", "Message": '{"level": 2, "finding_id": "f-999"}'}),
        entry(1.3, "Publish", {"TopicArn": "arn:oncall", "Message": "x", "MessageAttributes": {"level": level}}),
    ]
    chosen = attribute(entries, observer, since_mono=0.0, window_start=0.0, poll_end=2.0)
    assert chosen is not None and chosen.mono == 1.0


def test_quarantine_is_caused_by_calls_on_its_interfaces_or_learned_groups() -> None:
    observer = create_observer("instance_quarantined", {"instance": "miner"}, ENV, {"id": "f"})
    observer.resource_ids.update({"eni-a", "sg-iso"})  # what a poll learns
    entries = [
        entry(1.0, "ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": "eni-a", "Groups": ["sg-iso"]}),
        entry(1.1, "RevokeSecurityGroupEgress", {"GroupId": "sg-iso"}, ("sg-iso",)),
        entry(1.2, "RevokeSecurityGroupEgress", {"GroupId": "sg-elsewhere"}, ("sg-elsewhere",)),
    ]
    chosen = attribute(entries, observer, since_mono=0.0, window_start=0.0, poll_end=2.0)
    assert chosen is not None and chosen.operation == "RevokeSecurityGroupEgress" and chosen.mono == 1.1
