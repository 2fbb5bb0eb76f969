"""Shape checks against botocore's GuardDuty model: hostile hand-built findings, each rejected at its path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.validate import check_shape, validate_finding
from simulator.validate.issues import child
from simulator.validate.shape import checker_for, guardduty_model

REAL = Path(__file__).resolve().parents[1] / "data" / "real_findings"


def dns_finding() -> dict[str, Any]:
    """A clean finding (foxsec's Trojan:EC2/DropPoint!DNS sample) to break one way at a time."""
    return json.loads((REAL / "Trojan_EC2__DropPoint-bang-DNS.json").read_text())["detail"]


def s3_finding() -> dict[str, Any]:
    return json.loads((REAL / "Impact_S3__MaliciousIPCaller.json").read_text())


def shape_issues(finding: Any) -> set[tuple[str, str]]:
    return {(issue.rule, issue.path) for issue in check_shape(finding)}


def test_the_model_comes_from_botocore_at_run_time() -> None:
    model = guardduty_model()
    assert model.service_name == "guardduty"
    finding = checker_for()
    assert finding is checker_for()  # compiled once
    assert {"schemaVersion", "accountId", "arn", "createdAt", "id", "region", "resource", "severity", "type",
            "updatedAt"} == set(finding.required)
    assert finding.python_names["AccountId"] == "accountId"


def test_clean_findings_have_no_shape_issues() -> None:
    assert check_shape(dns_finding()) == []
    assert check_shape(s3_finding()) == []


@pytest.mark.parametrize("member", ["schemaVersion", "accountId", "arn", "createdAt", "id", "region", "resource",
                                    "severity", "type", "updatedAt"])
def test_missing_required_member(member: str) -> None:
    finding = dns_finding()
    del finding[member]
    assert ("required", f"$.{member}") in shape_issues(finding)


def test_required_member_set_to_null() -> None:
    finding = dns_finding()
    finding["severity"] = None
    issues = check_shape(finding)
    assert [(i.rule, i.path) for i in issues] == [("required", "$.severity")]
    assert "null" in issues[0].message


def test_optional_null_is_what_guardduty_sends() -> None:
    finding = dns_finding()
    finding["resource"]["instanceDetails"]["platform"] = None
    finding["service"]["evidence"] = None
    assert check_shape(finding) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("severity",), "8", "expected a number, got string"),
        (("severity",), True, "expected a number, got boolean"),
        (("service", "count"), 2.5, "expected an integer, got number"),
        (("service", "count"), "2", "expected an integer, got string"),
        (("service", "archived"), "false", "expected a boolean, got string"),
        (("service", "action", "dnsRequestAction", "domain"), ["a"], "expected a string, got list"),
        (("resource", "instanceDetails", "networkInterfaces"), {"a": 1}, "expected a list, got object"),
        (("resource", "instanceDetails"), "i-99999999", "expected an object, got string"),
        (("resource", "instanceDetails", "tags"), [{"key": 1, "value": "v"}], None),
    ],
)
def test_mistyped_values(path: tuple[str, ...], value: Any, expected: str | None) -> None:
    finding = dns_finding()
    node = finding
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    issues = check_shape(finding)
    assert len(issues) == 1
    issue = issues[0]
    assert issue.rule == "type"
    if expected is None:
        assert issue.path == "$.resource.instanceDetails.tags[0].key"
    else:
        assert issue.path == "$." + ".".join(path)
        assert expected in issue.message


def test_type_must_be_a_string_even_for_the_canary_asn() -> None:
    finding = dns_finding()
    finding["service"]["action"] = {"actionType": "NETWORK_CONNECTION", "networkConnectionAction": {
        "remoteIpDetails": {"organization": {"asn": -1}}}}
    assert shape_issues(finding) == {
        ("type", "$.service.action.networkConnectionAction.remoteIpDetails.organization.asn")}


def test_unknown_keys_are_reported_with_their_path_and_a_hint() -> None:
    finding = dns_finding()
    finding["isMalicious"] = True
    finding["resource"]["instanceDetails"]["InstanceId"] = "i-1"
    finding["resource"]["instanceDetails"]["networkInterfaces"][0]["PublicIP"] = "1.2.3.4"
    finding["service"]["action"]["dnsRequestAction"]["weird key"] = 1
    issues = {issue.path: issue for issue in check_shape(finding)}
    assert set(issues) == {
        "$.isMalicious",
        "$.resource.instanceDetails.InstanceId",
        "$.resource.instanceDetails.networkInterfaces[0].PublicIP",
        '$.service.action.dnsRequestAction["weird key"]',
    }
    assert all(issue.rule == "unknown-key" for issue in issues.values())
    assert "boto3's Python name" in issues["$.resource.instanceDetails.InstanceId"].message
    assert "'instanceId'" in issues["$.resource.instanceDetails.InstanceId"].message
    assert "did you mean 'publicIp'" in issues["$.resource.instanceDetails.networkInterfaces[0].PublicIP"].message


def test_additional_info_is_open_as_guardduty_flattens_it() -> None:
    finding = dns_finding()
    finding["service"]["additionalInfo"] = {"sample": True, "value": '{"sample":true}', "type": "default",
                                            "unusual": {"hoursOfDay": [1]}}
    assert check_shape(finding) == []
    finding["service"]["additionalInfo"]["value"] = {"sample": True}
    assert shape_issues(finding) == {("type", "$.service.additionalInfo.value")}


def test_enum_values_come_from_the_model() -> None:
    finding = dns_finding()
    finding["resource"]["bedrockGuardrailDetails"] = {"guardrailAction": "MAYBE"}
    issues = check_shape(finding)
    assert [(i.rule, i.path) for i in issues] == [("enum", "$.resource.bedrockGuardrailDetails.guardrailAction")]
    assert "GUARDRAIL_INTERVENED" in issues[0].message


@pytest.mark.parametrize(
    ("mutate", "rule", "path"),
    [
        (lambda f: f.update(type="X" * 101), "length", "$.type"),
        (lambda f: f.update(type=""), "length", "$.type"),
        (lambda f: f["service"]["action"]["dnsRequestAction"].update(vpcOwnerAccountId="1234"), "length",
         "$.service.action.dnsRequestAction.vpcOwnerAccountId"),
        (lambda f: f["service"].update(count=2**31), "range", "$.service.count"),
        (lambda f: f["resource"].update(bedrockGuardrailDetails={"guardrails": [{}] * 11}), "length",
         "$.resource.bedrockGuardrailDetails.guardrails"),
        (lambda f: f["resource"].update(bedrockGuardrailDetails={"guardrailArn": "not-an-arn"}), "pattern",
         "$.resource.bedrockGuardrailDetails.guardrailArn"),
        (lambda f: f["service"]["action"]["dnsRequestAction"].update(domain=None) or
         f["resource"]["instanceDetails"]["productCodes"].append(None), "null",
         "$.resource.instanceDetails.productCodes[1]"),
    ],
)
def test_bounds_from_the_model(mutate: Any, rule: str, path: str) -> None:
    finding = dns_finding()
    mutate(finding)
    assert shape_issues(finding) == {(rule, path)}


def test_oversize_strings_where_the_model_bounds_them() -> None:
    finding = dns_finding()
    finding["type"] = "Trojan:EC2/" + "A" * 100_000
    issue, = check_shape(finding)
    assert (issue.rule, issue.path) == ("length", "$.type")
    assert "100011 characters" in issue.message
    assert len(issue.message) < 200  # the value itself is not echoed whole


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (1513612691.551, True),  # epoch seconds: rest-json's wire form
        (1513612691, True),
        ("2017-12-18T15:58:11.551Z", True),
        (1513612691551, False),  # epoch milliseconds
        (-5, False),
        ("2017-12-18 15:58:11", False),
        ("yesterday", False),
        (True, False),
    ],
)
def test_model_timestamps_accept_epoch_seconds_and_iso8601(value: Any, ok: bool) -> None:
    finding = s3_finding()
    finding["resource"]["s3BucketDetails"][0]["createdAt"] = value
    issues = check_shape(finding)
    if ok:
        assert issues == []
    else:
        assert [issue.path for issue in issues] == ["$.resource.s3BucketDetails[0].createdAt"]
        assert issues[0].rule == ("type" if isinstance(value, bool) else "timestamp-format")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2019-06-09T19:10:08.216Z", True),
        ("2019-06-09T19:10:08Z", True),
        ("2019-06-09T19:10:08.000000000Z", True),
        ("2019-06-09T21:10:08+02:00", True),
        ("2019-06-09 19:10:08.216", False),  # Panther's rewrite
        ("2019-06-09T19:10:08", False),  # no zone
        ("2019-13-09T19:10:08Z", False),
        ("2019-06-09T25:10:08Z", False),
        ("", False),
    ],
)
def test_top_level_times_are_iso8601_strings(value: str, ok: bool) -> None:
    finding = dns_finding()
    finding["createdAt"] = value
    assert shape_issues(finding) == (set() if ok else {("timestamp-format", "$.createdAt")})


def test_epoch_milliseconds_where_guardduty_writes_a_string() -> None:
    finding = dns_finding()
    finding["resource"]["instanceDetails"]["launchTime"] = 1492735675000
    issue, = check_shape(finding)
    assert (issue.rule, issue.path) == ("type", "$.resource.instanceDetails.launchTime")
    assert "epoch milliseconds" in issue.message


def test_non_finite_and_enormous_numbers() -> None:
    finding = dns_finding()
    finding["severity"] = float("nan")
    finding["confidence"] = 10**400
    finding["service"]["count"] = 10**5000
    rules = {(issue.rule, issue.path) for issue in check_shape(finding)}
    assert rules == {("type", "$.severity"), ("range", "$.confidence"), ("range", "$.service.count")}


def test_boto3_python_form_is_one_clear_issue() -> None:
    finding = {"AccountId": "123456789012", "Arn": "arn", "Id": "abc", "SchemaVersion": "2.0", "Severity": 5,
               "Service": {"Count": 1}}
    issues = validate_finding(finding)
    assert [(i.rule, i.path) for i in issues] == [("boto3-form", "$")]
    assert "boto3's Python form" in issues[0].message


def test_not_a_finding_at_all_is_one_clear_issue() -> None:
    issues = validate_finding({"repo": "x", "path": "y"})
    assert [(i.rule, i.path) for i in issues] == [("not-a-finding", "$")]
    assert [(i.rule, i.path) for i in validate_finding(["a"])] == [("type", "$")]


# --- property: any leaf replaced by a value of another JSON type is reported at that leaf -----------

def _leaves(node: Any, path: str = "$") -> list[tuple[str, tuple[Any, ...], Any]]:
    """(JSON path, keys to reach it, value) of every non-null scalar, outside the open additionalInfo."""
    out: list[tuple[str, tuple[Any, ...], Any]] = []

    def walk(value: Any, where: str, trail: tuple[Any, ...]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key != "additionalInfo":
                    walk(item, child(where, key), (*trail, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]", (*trail, index))
        elif value is not None:
            out.append((where, trail, value))

    walk(node, path, ())
    return out


LEAVES = _leaves(dns_finding()) + [(p.replace("$", "$s3", 1), t, v) for p, t, v in _leaves(s3_finding())]
WRONG_VALUES = {"str": [1, True, [], {}], "int": ["1", [], {}, 1.5], "float": ["1.5", [], {}, True],
                "bool": ["true", 0, [], {}]}


@settings(max_examples=150, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(LEAVES), st.integers(min_value=0, max_value=3))
def test_any_leaf_of_the_wrong_type_is_reported_at_its_path(leaf: tuple[str, tuple[Any, ...], Any],
                                                           pick: int) -> None:
    path, trail, value = leaf
    finding = s3_finding() if path.startswith("$s3") else dns_finding()
    path = path.replace("$s3", "$", 1)
    wrong = WRONG_VALUES[type(value).__name__][pick]
    if type(value) is int and isinstance(wrong, float):
        wrong = "1"  # an int where a double is allowed stays valid; a string never is
    node = finding
    for step in trail[:-1]:
        node = node[step]
    node[trail[-1]] = copy.deepcopy(wrong)
    assert path in {issue.path for issue in check_shape(finding)}
