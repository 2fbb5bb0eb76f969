"""The factory's contract: generate_finding's arguments, reproducibility, and refusals."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from simulator.catalog import active_types, retired_types
from simulator.errors import InputError
from simulator.findings import FindingFactory, generate_finding
from simulator.findings.clock import now_ms, parse_iso
from simulator.findings.ids import detector_id

ACTIVE = sorted(active_types())
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not() -> None:
    def run(seed: int) -> list[str]:
        factory = FindingFactory(pool_seed=seed)
        rng = random.Random(seed)
        return [factory.finding_json(name, rng=rng, now=NOW) for name in ACTIVE]

    first = run(7)
    assert run(7) == first
    assert all(a != b for a, b in zip(first, run(8), strict=True))
    rng_a, rng_b = random.Random(3), random.Random(3)
    assert generate_finding(ACTIVE[0], rng=rng_a, now=NOW) == generate_finding(ACTIVE[0], rng=rng_b, now=NOW)


def test_cached_sections_change_nothing_a_warm_factory_equals_a_cold_one() -> None:
    warm = FindingFactory(pool_seed=4)
    for name in ACTIVE:  # fill every cache
        warm.finding_json(name, rng=random.Random(name), now=NOW)
    for name in ACTIVE[::7]:
        cold = FindingFactory(pool_seed=4)
        assert warm.finding_json(name, rng=random.Random(1), now=NOW) == cold.finding_json(
            name, rng=random.Random(1), now=NOW)


def test_ids_are_unique_and_the_detector_is_one_per_account_and_region() -> None:
    rng = random.Random(1)
    findings = [generate_finding(name, rng=rng, now=NOW) for name in ACTIVE]
    assert len({finding["id"] for finding in findings}) == len(findings)
    assert {finding["service"]["detectorId"] for finding in findings} == {detector_id("123456789012", "us-east-1")}
    other = generate_finding(ACTIVE[0], rng=rng, account_id="210987654321", region="eu-west-1", now=NOW)
    assert other["service"]["detectorId"] == detector_id("210987654321", "eu-west-1") != detector_id(
        "123456789012", "us-east-1")
    assert other["arn"].startswith("arn:aws:guardduty:eu-west-1:210987654321:detector/")


def test_now_is_the_update_time_and_defaults_to_the_clock() -> None:
    finding = generate_finding("Recon:EC2/Portscan", rng=random.Random(1), now=NOW + timedelta(milliseconds=7))
    assert finding["updatedAt"] == "2025-05-01T12:00:00.007Z"
    before = now_ms()
    current = generate_finding("Recon:EC2/Portscan", rng=random.Random(1))
    assert before <= parse_iso(current["updatedAt"]) <= now_ms()
    naive = generate_finding("Recon:EC2/Portscan", rng=random.Random(1), now=datetime(2025, 5, 1, 12, 0))
    assert naive["updatedAt"] == "2025-05-01T12:00:00.000Z"  # a naive time is read as UTC


@pytest.mark.parametrize(("type_name", "severity"), [("Recon:EC2/Portscan", 4.0), ("Recon:EC2/Portscan", 6.9),
                                                     ("AttackSequence:S3/CompromisedData", 10.0)])
def test_an_explicit_severity_inside_the_band_is_kept(type_name: str, severity: float) -> None:
    assert generate_finding(type_name, rng=random.Random(1), severity=severity, now=NOW)["severity"] == severity


@pytest.mark.parametrize(("type_name", "severity", "direction"), [
    ("UnauthorizedAccess:EC2/SSHBruteForce", 8.0, "OUTBOUND"), ("UnauthorizedAccess:EC2/SSHBruteForce", 2.0, "INBOUND"),
    ("Impact:EC2/WinRMBruteForce", 7.5, "OUTBOUND")])
def test_an_explicit_severity_picks_the_activity_that_implies_it(type_name: str, severity: float,
                                                                 direction: str) -> None:
    for seed in range(10):
        finding = generate_finding(type_name, rng=random.Random(seed), severity=severity, now=NOW)
        assert finding["severity"] == severity
        assert finding["service"]["action"]["networkConnectionAction"]["connectionDirection"] == direction


@pytest.mark.parametrize("severity", [3.9, 7.0, 0.0, 11.0, True, "5"])
def test_a_severity_outside_the_band_is_refused(severity: object) -> None:
    with pytest.raises(InputError, match="band") as refused:
        generate_finding("Recon:EC2/Portscan", rng=random.Random(1), severity=severity, now=NOW)  # type: ignore[arg-type]
    assert refused.value.field == "severity"


def test_severity_values_are_mostly_the_usual_ones() -> None:
    rng = random.Random(2)
    values = [generate_finding("Trojan:EC2/DropPoint", rng=rng, now=NOW)["severity"] for _ in range(300)]
    assert 0.6 < values.count(5.0) / len(values) < 0.95
    assert all(4.0 <= value <= 6.9 for value in values) and len(set(values)) > 3


def test_sample_findings_carry_the_marker_flat_and_in_value() -> None:
    info = generate_finding("Backdoor:EC2/Spambot", rng=random.Random(1), now=NOW, sample=True)["service"][
        "additionalInfo"]
    assert info["sample"] is True and '"sample":true' in info["value"] and info["type"] == "default"


def test_unknown_and_retired_types_are_refused_by_name() -> None:
    with pytest.raises(InputError, match="did you mean 'Recon:EC2/Portscan'"):
        generate_finding("recon:ec2/portscan", rng=random.Random(1))
    with pytest.raises(InputError, match="retired"):
        generate_finding(next(iter(retired_types())), rng=random.Random(1))


@pytest.mark.parametrize(("kwargs", "field"), [({"account_id": "12345"}, "account_id"),
                                               ({"account_id": 123456789012}, "account_id"),
                                               ({"region": "moon-1"}, "region")])
def test_bad_account_or_region_is_refused(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError) as refused:
        generate_finding("Recon:EC2/Portscan", rng=random.Random(1), **kwargs)
    assert refused.value.field == field


def test_fleet_resources_recur_like_a_real_account_but_vary() -> None:
    rng = random.Random(4)
    instances = [generate_finding("Recon:EC2/Portscan", rng=rng, now=NOW)["resource"]["instanceDetails"]["instanceId"]
                 for _ in range(200)]
    assert 5 < len(set(instances)) <= 8 * 24  # a fleet per pool seed, not a new instance every time


def test_synthesized_ids_have_aws_shapes() -> None:
    import re

    rng = random.Random(6)
    ec2 = generate_finding("Recon:EC2/Portscan", rng=rng, now=NOW)["resource"]["instanceDetails"]
    assert re.fullmatch(r"i-0[0-9a-f]{16}", ec2["instanceId"]) and re.fullmatch(r"ami-0[0-9a-f]{16}", ec2["imageId"])
    eni = ec2["networkInterfaces"][0]
    assert re.fullmatch(r"eni-0[0-9a-f]{16}", eni["networkInterfaceId"])
    assert re.fullmatch(r"subnet-0[0-9a-f]{16}", eni["subnetId"]) and re.fullmatch(r"vpc-0[0-9a-f]{16}", eni["vpcId"])
    key = generate_finding("Recon:IAMUser/TorIPCaller", rng=rng, now=NOW)["resource"]["accessKeyDetails"]
    assert re.fullmatch(r"(AKIA|ASIA)[A-Z2-7]{16}", key["accessKeyId"])
    assert re.fullmatch(r"AIDA[A-Z0-9]{17}", key["principalId"])
