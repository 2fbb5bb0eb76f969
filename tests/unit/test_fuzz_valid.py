"""Valid fuzz variants explore the schema and stay valid: the validator and botocore accept every one."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest
from botocore import parsers
from botocore.session import get_session
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.catalog import SEVERITY_BANDS, active_types
from simulator.errors import InputError
from simulator.findings import FAMILIES, generate_finding, types_by_family
from simulator.fuzz import (
    FAMILY_MUTATIONS,
    FAMILY_STRATEGIES,
    GENERIC_MUTATIONS,
    VALID_MUTATIONS,
    findings,
    strategy_for,
    valid_variant,
)
from simulator.fuzz._choosers import RandomChooser
from simulator.validate import validate_finding

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
GET_FINDINGS = get_session().get_service_model("guardduty").operation_model("GetFindings")
ONE_PER_FAMILY = [types[0] for types in types_by_family().values()]


def botocore_reads(finding: dict) -> dict:
    body = json.dumps({"findings": [finding]}).encode()
    parsed = parsers.create_parser("rest-json").parse({"status_code": 200, "headers": {}, "body": body},
                                                      GET_FINDINGS.output_shape)
    assert "Error" not in parsed
    return parsed["Findings"][0]


class Always(RandomChooser):
    """Takes every optional branch, so a mutation does all it can."""

    def boolean(self, probability: float = 0.5) -> bool:
        return True


@settings(max_examples=250, derandomize=True, deadline=None)
@given(findings(variant="valid"))
def test_every_valid_variant_validates_and_parses(finding: dict) -> None:
    assert validate_finding(finding) == []
    assert botocore_reads(finding)["Id"] == finding["id"]


@pytest.mark.parametrize("mutation", sorted(VALID_MUTATIONS))
@pytest.mark.parametrize("type_name", ONE_PER_FAMILY)
def test_each_mutation_alone_keeps_every_family_valid(mutation: str, type_name: str) -> None:
    finding = generate_finding(type_name, rng=random.Random(mutation), now=NOW)
    VALID_MUTATIONS[mutation](finding, Always(random.Random(1)))
    assert validate_finding(finding) == []
    botocore_reads(finding)


def mutated(type_name: str, mutation: str, seed: int = 1) -> dict:
    finding = generate_finding(type_name, rng=random.Random(seed), now=NOW)
    VALID_MUTATIONS[mutation](finding, Always(random.Random(seed)))
    return finding


def test_mutations_do_what_they_say() -> None:
    ec2 = "UnauthorizedAccess:EC2/SSHBruteForce"
    assert len(mutated(ec2, "several-enis")["resource"]["instanceDetails"]["networkInterfaces"]) >= 2
    remote = mutated(ec2, "ipv6-remote")["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]
    assert ":" in remote["ipAddressV6"] and "ipAddressV4" not in remote
    assert mutated(ec2, "archived")["service"]["archived"] is True
    assert mutated(ec2, "sample")["service"]["additionalInfo"]["sample"] is True
    tags = mutated(ec2, "max-length-strings")["resource"]["instanceDetails"]["tags"][-1]
    assert (len(tags["key"]), len(tags["value"])) == (128, 256)
    severity = mutated(ec2, "severity-edge")["severity"]
    assert any(severity in band for band in SEVERITY_BANDS.values())
    call = mutated("Recon:IAMUser/MaliciousIPCaller", "cross-account-principal")["service"]["action"][
        "awsApiCallAction"]
    assert call["remoteAccountDetails"]["accountId"] != "123456789012"
    assert len(mutated("Exfiltration:S3/MaliciousIPCaller", "several-buckets")["resource"]["s3BucketDetails"]) == 2
    assert "impersonatedUser" in mutated("Discovery:Kubernetes/MaliciousIPCaller", "impersonation")["resource"][
        "kubernetesDetails"]["kubernetesUserDetails"]
    times = mutated(ec2, "whole-second-times")
    assert times["createdAt"].endswith("Z") and len(times["createdAt"]) == 20
    dropped = mutated(ec2, "drop-optional")
    assert "title" not in dropped and "evidence" not in dropped["service"]


def test_ipv6_keeps_the_address_and_its_network_together() -> None:
    finding = mutated("Discovery:Kubernetes/TorIPCaller", "ipv6-remote", seed=3)
    call = finding["service"]["action"]["kubernetesApiCallAction"]
    details = call["remoteIpDetails"]
    assert details["ipAddressV4"] in call["sourceIPs"] and details["ipAddressV4"] in finding["description"]
    assert validate_finding(finding) == []


def test_valid_variant_is_reproducible_and_valid_for_every_type() -> None:
    rng = random.Random(21)
    for type_name in sorted(active_types()):
        first = valid_variant(random.Random(type_name), type_name, now=NOW)
        assert first == valid_variant(random.Random(type_name), type_name, now=NOW)
        assert validate_finding(valid_variant(rng, type_name, now=NOW)) == [], type_name


def test_the_registry_has_a_strategy_for_every_family_and_type() -> None:
    assert set(FAMILY_STRATEGIES) == set(FAMILIES) == set(FAMILY_MUTATIONS)
    assert all(name in VALID_MUTATIONS for names in FAMILY_MUTATIONS.values() for name in names)
    assert all(name in VALID_MUTATIONS for name in GENERIC_MUTATIONS)
    for type_name in active_types():
        assert isinstance(strategy_for(type_name), st.SearchStrategy)


@settings(max_examples=30, derandomize=True, deadline=None)
@given(findings(["CryptoCurrency:EC2/BitcoinTool.B!DNS", "Recon:EC2/Portscan"], account_id="210987654321",
                region="eu-west-1"))
def test_findings_can_be_narrowed_to_types_account_and_region(finding: dict) -> None:
    assert finding["type"] in ("CryptoCurrency:EC2/BitcoinTool.B!DNS", "Recon:EC2/Portscan")
    assert (finding["accountId"], finding["region"]) == ("210987654321", "eu-west-1")


@settings(max_examples=20, derandomize=True, deadline=None)
@given(findings("Backdoor:EC2/Spambot", variant="plain"))
def test_plain_variant_is_the_factory_alone(finding: dict) -> None:
    assert finding["service"]["additionalInfo"]["sample"] is False and finding["service"]["archived"] is False


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(InputError, match="unknown finding type"):
        findings("Nope:EC2/Nothing")
    with pytest.raises(InputError, match="unknown variant"):
        findings(variant="evil")
    with pytest.raises(InputError, match="retired"):
        valid_variant(random.Random(1), "UnauthorizedAccess:EC2/TorIPCaller")


@pytest.mark.parametrize(("type_name", "corner"), [
    ("UnauthorizedAccess:EC2/SSHBruteForce",
     lambda f: len(f["resource"]["instanceDetails"]["networkInterfaces"]) > 1),
    ("UnauthorizedAccess:EC2/SSHBruteForce",
     lambda f: "ipAddressV6" in f["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]),
    ("Recon:IAMUser/TorIPCaller", lambda f: "remoteAccountDetails" in f["service"]["action"]["awsApiCallAction"]),
    ("Recon:IAMUser/TorIPCaller", lambda f: f["service"].get("archived") is True),
    ("Recon:IAMUser/TorIPCaller", lambda f: f["service"].get("additionalInfo", {}).get("sample") is True),
    ("Trojan:EC2/DropPoint", lambda f: any(not tag["key"].isascii() for tag in
                                           f["resource"]["instanceDetails"].get("tags", []))),
    ("Trojan:EC2/DropPoint", lambda f: any(len(tag["value"]) == 256 for tag in
                                           f["resource"]["instanceDetails"].get("tags", []))),
    ("Trojan:EC2/DropPoint", lambda f: "title" not in f),
    ("Recon:EC2/Portscan", lambda f: f["severity"] in (4.0, 6.9)),
    ("Execution:Runtime/ReverseShell", lambda f: len(f["service"]["runtimeDetails"]["process"]["lineage"]) > 4),
])
def test_the_family_strategies_reach_every_corner(type_name: str, corner) -> None:  # type: ignore[no-untyped-def]
    from hypothesis import Phase, find

    # Finding one example is the point; shrinking it would only cost time.
    found = find(strategy_for(type_name), corner, settings=settings(max_examples=400, derandomize=True,
                                                                      database=None, phases=[Phase.generate]))
    assert validate_finding(found) == []
