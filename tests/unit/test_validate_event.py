"""The EventBridge envelope GuardDuty publishes, and the finding inside it under $.detail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from simulator.validate import looks_like_event, validate_event

REAL = Path(__file__).resolve().parents[1] / "data" / "real_findings"


def event() -> dict[str, Any]:
    """A verbatim foxsec event (2019, us-west-2)."""
    return json.loads((REAL / "Backdoor_EC2__DenialOfService.Tcp.json").read_text())


def found(obj: Any, **options: Any) -> set[tuple[str, str]]:
    return {(issue.rule, issue.path) for issue in validate_event(obj, **options)}


def test_a_real_event_is_clean() -> None:
    assert validate_event(event()) == []
    assert looks_like_event(event())
    assert not looks_like_event(event()["detail"])


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("version", "1", "event-version"),
        ("version", 0, "type"),
        ("id", "not-a-uuid", "event-id"),
        ("detail-type", "GuardDuty Malware Protection Object Scan Result", "detail-type"),
        ("source", "custom.guardduty", "event-source"),
        ("account", "1234", "account-id"),
        ("time", "2019-06-09T19:15:01.123Z", "event-time"),
        ("time", "2019-06-09 19:15:01", "event-time"),
        ("region", "moon", "region"),
        ("region", "us-east-1", "region"),  # differs from detail.region us-west-2
        ("resources", "arn:aws:ec2:...", "type"),
    ],
)
def test_envelope_fields(key: str, value: Any, rule: str) -> None:
    broken = event()
    broken[key] = value
    path = '$["detail-type"]' if key == "detail-type" else f"$.{key}"
    assert found(broken) == {(rule, path)}


def test_a_resource_that_is_not_a_string() -> None:
    broken = event()
    broken["resources"] = ["arn:aws:ec2:us-west-2:123456789012:instance/i-1", 7]
    assert found(broken) == {("type", "$.resources[1]")}


def test_missing_and_unknown_envelope_keys() -> None:
    broken = event()
    del broken["account"]
    broken["detail_type"] = "GuardDuty Finding"
    assert found(broken) == {("required", "$.account"), ("unknown-key", "$.detail_type")}


def test_custom_source_only_when_asked() -> None:
    custom = event()
    custom["source"] = "gdsim.guardduty"
    assert found(custom) == {("event-source", "$.source")}
    assert validate_event(custom, extra_sources=("gdsim.guardduty",)) == []


def test_admin_account_copy_may_name_another_account() -> None:
    copy = event()
    copy["account"] = "210987654321"  # a delegated administrator receives its members' findings
    assert validate_event(copy) == []


def test_finding_problems_are_reported_under_detail() -> None:
    broken = event()
    broken["detail"]["severity"] = 9.5
    del broken["detail"]["resource"]["instanceDetails"]["instanceId"]
    broken["detail"]["resource"]["instanceDetails"]["networkInterfaces"][0]["publicIp"] = "300.0.0.1"
    broken["detail"]["service"]["count"] = "2"
    assert found(broken) == {
        ("severity-band", "$.detail.severity"),
        ("ip-address", "$.detail.resource.instanceDetails.networkInterfaces[0].publicIp"),
        ("type", "$.detail.service.count"),
    }


def test_detail_of_another_detail_type_is_not_judged_as_a_finding() -> None:
    scan = event()
    scan["detail-type"] = "GuardDuty Malware Protection Object Scan Result"
    scan["detail"] = {"scanStatus": "COMPLETED"}
    assert found(scan) == {("detail-type", '$["detail-type"]')}


def test_not_an_object() -> None:
    assert found(["x"]) == {("type", "$")}
    assert found({**event(), "detail": "finding"}) == {("type", "$.detail")}


def test_shape_only_and_retired_options_reach_the_detail() -> None:
    retired = json.loads((REAL / "UnauthorizedAccess_EC2__TorIPCaller.json").read_text())
    assert found(retired) == {("retired-type", "$.detail.type")}
    assert [issue.level for issue in validate_event(retired, allow_retired=True)] == ["warning"]
    assert validate_event(retired, strict_semantics=False) == []
