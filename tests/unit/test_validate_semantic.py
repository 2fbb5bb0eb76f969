"""GuardDuty's semantic rules, one at a time, on clean real findings broken one way each."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simulator.validate import RULES, run_rules, validate_finding
from simulator.validate.semantic import RESOURCE_DETAILS, allowed_actions

REAL = Path(__file__).resolve().parents[1] / "data" / "real_findings"


def real(name: str) -> dict[str, Any]:
    document = json.loads((REAL / name).read_text())
    return document.get("detail", document)


def dns() -> dict[str, Any]:
    """Trojan:EC2/DropPoint!DNS: Medium, Instance, DNS_REQUEST."""
    return real("Trojan_EC2__DropPoint-bang-DNS.json")


def iam() -> dict[str, Any]:
    """Recon:IAMUser/TorIPCaller: Medium, AccessKey, AWS_API_CALL."""
    return real("Recon_IAMUser__TorIPCaller.json")


def probe() -> dict[str, Any]:
    """Recon:EC2/PortProbeEMRUnprotectedPort (2019 sample: severity 2, since raised to High)."""
    return real("Recon_EC2__PortProbeEMRUnprotectedPort.json")


def s3() -> dict[str, Any]:
    return real("Impact_S3__MaliciousIPCaller.json")


def setting(*path: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(finding: dict[str, Any]) -> None:
        node: Any = finding
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


def deleting(*path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(finding: dict[str, Any]) -> None:
        node: Any = finding
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return mutate


def arn_with(**parts: str) -> Callable[[dict[str, Any]], None]:
    def mutate(finding: dict[str, Any]) -> None:
        fields = {"partition": "aws", "region": finding["region"], "account": finding["accountId"],
                  "detector": finding["service"]["detectorId"], "id": finding["id"], **parts}
        finding["arn"] = (f"arn:{fields['partition']}:guardduty:{fields['region']}:{fields['account']}:"
                          f"detector/{fields['detector']}/finding/{fields['id']}")
    return mutate


# (rule, base finding, mutation, path of the issue)
BROKEN: list[tuple[str, Callable[[], dict[str, Any]], Callable[[dict[str, Any]], None], str]] = [
    ("schema-version", dns, setting("schemaVersion", value="1.0"), "$.schemaVersion"),
    ("unknown-type", dns, setting("type", value="Trojan:EC2/NotAThing"), "$.type"),
    ("unknown-type", dns, setting("type", value="trojan:ec2/droppoint!dns"), "$.type"),
    ("retired-type", dns, setting("type", value="UnauthorizedAccess:EC2/TorIPCaller"), "$.type"),
    ("finding-id", dns, setting("id", value="02B59ED2EDB6F2AE5690FFA9EE5EBD89"), "$.id"),
    ("finding-id", dns, setting("id", value="f" * 301), "$.id"),
    ("finding-id", dns, setting("id", value="../../etc/passwd"), "$.id"),
    ("account-id", dns, setting("accountId", value="12345"), "$.accountId"),
    ("region", dns, setting("region", value="mars-1"), "$.region"),
    ("region", dns, setting("partition", value="aws-cn"), "$.partition"),
    ("service", dns, deleting("service"), "$.service"),
    ("service", dns, setting("service", "serviceName", value="inspector"), "$.service.serviceName"),
    ("service", dns, setting("service", "detectorId", value="Detector-1"), "$.service.detectorId"),
    ("service", dns, deleting("service", "detectorId"), "$.service.detectorId"),
    ("service", dns, setting("service", "resourceRole", value="VICTIM"), "$.service.resourceRole"),
    ("arn", dns, arn_with(account="999999999999"), "$.arn"),
    ("arn", dns, arn_with(region="eu-west-1"), "$.arn"),
    ("arn", dns, arn_with(detector="0" * 32), "$.arn"),
    ("arn", dns, arn_with(id="0" * 32), "$.arn"),
    ("arn", dns, arn_with(partition="aws-us-gov"), "$.arn"),
    ("arn", dns, setting("arn", value="arn:aws:s3:::bucket"), "$.arn"),
    ("arn", dns, setting("arn", value="arn:aws:guardduty:us-west-2:123456789012:detector/x"), "$.arn"),
    ("time-order", dns, setting("updatedAt", value="2019-06-09T19:10:08.000Z"), "$.updatedAt"),
    ("time-order", dns, setting("service", "eventLastSeen", value="2019-06-08T00:00:00Z"),
     "$.service.eventLastSeen"),
    ("count", dns, setting("service", "count", value=0), "$.service.count"),
    ("count", dns, setting("service", "count", value=-3), "$.service.count"),
    ("severity-band", dns, setting("severity", value=8), "$.severity"),
    ("severity-band", dns, setting("severity", value=3.95), "$.severity"),
    ("severity-band", dns, setting("severity", value=0), "$.severity"),
    ("severity-band", probe, setting("severity", value=5), "$.severity"),
    ("severity-band", dns, lambda f: f.update(type="Canary:EC2/Stateless.IntegTest", severity=11), "$.severity"),
    ("resource-type", dns, setting("resource", "resourceType", value="AccessKey"), "$.resource.resourceType"),
    ("resource-type", iam, setting("resource", "resourceType", value="Instance"), "$.resource.resourceType"),
    ("resource-details", dns, deleting("resource", "instanceDetails"), "$.resource.instanceDetails"),
    ("resource-details", iam, setting("resource", "accessKeyDetails", value=None), "$.resource.accessKeyDetails"),
    ("resource-details", s3, setting("resource", "s3BucketDetails", value=[]), "$.resource.s3BucketDetails"),
    ("action-type", dns, setting("service", "action", "actionType", value="NETWORK_CONNECTION"),
     "$.service.action.actionType"),
    ("action-type", dns, deleting("service", "action"), "$.service.action"),
    ("action-type", dns, deleting("service", "action", "actionType"), "$.service.action.actionType"),
    ("action-type", probe, setting("service", "action", "actionType", value="NETWORK_CONNECTION"),
     "$.service.action.actionType"),
    ("action-type", iam, setting("service", "action", "actionType", value="DNS_REQUEST"),
     "$.service.action.actionType"),
    ("action-details", dns, deleting("service", "action", "dnsRequestAction"), "$.service.action.dnsRequestAction"),
    ("action-details", dns, setting("service", "action", "networkConnectionAction", value={"blocked": False}),
     "$.service.action.networkConnectionAction"),
    ("ip-address", dns, setting("resource", "instanceDetails", "networkInterfaces", 0, "publicIp", value="999.1.1.1"),
     "$.resource.instanceDetails.networkInterfaces[0].publicIp"),
    ("ip-address", iam, setting("service", "action", "awsApiCallAction", "remoteIpDetails", "ipAddressV4",
                                value="2001:db8::1"),
     "$.service.action.awsApiCallAction.remoteIpDetails.ipAddressV4"),
    ("ip-address", dns, setting("resource", "instanceDetails", "networkInterfaces", 0, "ipv6Addresses",
                                value=["2001:db8::1", "10.0.0.1"]),
     "$.resource.instanceDetails.networkInterfaces[0].ipv6Addresses[1]"),
    ("ip-address", dns, setting("resource", "instanceDetails", "networkInterfaces", 0, "privateIpAddresses", 0,
                                "privateIpAddress", value="10.0.0.1; DROP TABLE"),
     "$.resource.instanceDetails.networkInterfaces[0].privateIpAddresses[0].privateIpAddress"),
    ("size", dns, setting("description", value="x" * 300_000), "$"),
]


def test_clean_findings_break_no_rule() -> None:
    for make in (dns, iam, probe, s3):
        assert run_rules(make()) == []


def test_every_registered_rule_is_listed_and_exercised_here() -> None:
    assert set(RULES) == {rule_id for rule_id, *_ in BROKEN}
    assert all(rule.summary for rule in RULES.values())


@pytest.mark.parametrize(("rule_id", "make", "mutate", "path"), BROKEN,
                         ids=[f"{case[0]}-{index}" for index, case in enumerate(BROKEN)])
def test_each_rule_catches_its_break(rule_id: str, make: Callable[[], dict[str, Any]],
                                     mutate: Callable[[dict[str, Any]], None], path: str) -> None:
    finding = make()
    mutate(finding)
    alone = run_rules(finding, only={rule_id})
    assert [(issue.rule, issue.path) for issue in alone] == [(rule_id, path)]
    assert alone[0].message
    # and the full validator reports it too
    assert (rule_id, path) in {(issue.rule, issue.path) for issue in validate_finding(finding)}


def test_run_rules_refuses_an_unknown_rule_name() -> None:
    with pytest.raises(ValueError, match="no such semantic rule: nope"):
        run_rules(dns(), only={"nope"})


@pytest.mark.parametrize(
    ("make", "severity", "ok"),
    [
        (dns, 4.0, True), (dns, 6.9, True), (dns, 6.95, True), (dns, 7.0, False), (dns, 3.99, False),
        (probe, 2, True), (probe, 8, True), (probe, 5, False),  # Low in 2019, High today
        (lambda: {**real("UnauthorizedAccess_EC2__SSHBruteForce.json"), "severity": 8}, 8, True),  # Low*: varies
        (lambda: {**real("UnauthorizedAccess_EC2__SSHBruteForce.json")}, 9.5, False),
        (lambda: {**dns(), "type": "AttackSequence:IAM/CompromisedCredentials"}, 9.0, True),
        (lambda: {**dns(), "type": "AttackSequence:IAM/CompromisedCredentials"}, 10.0, True),
        (lambda: {**dns(), "type": "AttackSequence:IAM/CompromisedCredentials"}, 8.9, False),
        (lambda: {**dns(), "type": "PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleBindingCreated"}, 8,
         True),  # Medium*
        (lambda: {**dns(), "type": "PrivilegeEscalation:IAM/AccountManipulation"}, 5, True),  # Medium|High
        (lambda: {**dns(), "type": "PrivilegeEscalation:IAM/AccountManipulation"}, 2, False),
        (lambda: {**dns(), "type": "DefenseImpairment:EC2/DisableOrModifyTools"}, 5, False),  # Low|High
        (lambda: {**dns(), "type": "UnauthorizedAccess:EC2/TorIPCaller"}, 5, True),  # retired, last known Medium
        (lambda: {**dns(), "type": "UnauthorizedAccess:EC2/TorIPCaller"}, 8, False),
    ],
)
def test_severity_bands(make: Callable[[], dict[str, Any]], severity: float, ok: bool) -> None:
    finding = make()
    finding["severity"] = severity
    issues = run_rules(finding, only={"severity-band"})
    assert (issues == []) is ok


def test_retired_type_is_a_warning_only_when_allowed() -> None:
    finding = dns()
    finding["type"] = "UnauthorizedAccess:EC2/TorIPCaller"
    finding["service"]["action"] = {"actionType": "NETWORK_CONNECTION", "networkConnectionAction": {}}
    strict, = [issue for issue in validate_finding(finding) if issue.rule == "retired-type"]
    assert strict.level == "error" and "--allow-retired" in strict.message
    lenient = validate_finding(finding, allow_retired=True)
    assert [(issue.rule, issue.level) for issue in lenient] == [("retired-type", "warning")]


def test_shape_problems_are_not_reported_twice_by_the_rules() -> None:
    finding = dns()
    finding["severity"] = "high"
    finding["createdAt"] = 5
    finding["service"]["count"] = "2"
    finding["type"] = ["Trojan"]
    assert run_rules(finding) == []
    finding = dns()
    finding["service"] = "guardduty"
    finding["resource"] = "i-99999999"
    assert run_rules(finding) == []


def test_type_name_rules_reach_runtime_dns_types_only_when_they_carry_an_action() -> None:
    from simulator.catalog import get_type

    allowed, required = allowed_actions(get_type("Backdoor:Runtime/C&CActivity.B!DNS"))
    assert allowed == {"DNS_REQUEST"} and not required
    allowed, required = allowed_actions(get_type("Recon:EC2/PortProbeUnprotectedPort"))
    assert allowed == {"PORT_PROBE"} and required
    assert allowed_actions(get_type("Execution:Runtime/NewBinaryExecuted")) == (None, False)


def test_every_catalog_resource_type_has_known_details_or_none() -> None:
    from simulator.catalog import active_types

    documented = {rt for t in active_types().values() for rt in t.resource_types}
    assert documented - set(RESOURCE_DETAILS) <= {"AttackSequence", "S3Object"}
