"""Real public GuardDuty findings: the genuine ones validate clean, the edited ones fail where they were edited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from simulator.validate import is_valid, looks_like_event, validate_document

REAL = Path(__file__).resolve().parents[1] / "data" / "real_findings"
SAMPLES = sorted(path.name for path in REAL.glob("*.json")
                 if not path.name.endswith(".source.json") and path.name != "MANIFEST.json")

TIMESTAMPS = {("timestamp-format", path) for path in
              ("$.createdAt", "$.updatedAt", "$.service.eventFirstSeen", "$.service.eventLastSeen")}

# file -> every (rule, path) the validator must report; files not listed must report nothing.
KNOWN_INVALID: dict[str, set[tuple[str, str]]] = {
    # Panther rewrote the timestamps as "2025-02-25 20:40:06.721" (no T, no zone).
    "AttackSequence_IAM__CompromisedCredentials.json": TIMESTAMPS,
    "AttackSequence_S3__CompromisedData.json": TIMESTAMPS,
    # An internal canary type, launchTime as epoch milliseconds, asn as a number, ARN detector redacted.
    "Canary_EC2__Stateless.IntegTest.json": {
        ("type", "$.resource.instanceDetails.launchTime"),
        ("type", "$.service.action.networkConnectionAction.remoteIpDetails.organization.asn"),
        ("unknown-type", "$.type"),
        ("arn", "$.arn"),
    },
    # The same aws-samples project redacted the ARN's detector segment to the account number.
    "PenTest_S3__ParrotLinux.json": {("arn", "$.arn")},
    "Recon_IAMUser__MaliciousIPCaller.Custom.json": {("arn", "$.arn")},
    # The waf-acl sample's authors kept only {region, detail} and trimmed the finding.
    "UnauthorizedAccess_EC2__SSHBruteForce.json": {
        *{("required", f"$.{key}") for key in ("version", "id", "source", "account", "time", "resources")},
        ("required", '$["detail-type"]'),
        *{("required", f"$.detail.{key}") for key in ("accountId", "arn", "region", "schemaVersion")},
        ("service", "$.detail.service.detectorId"),
    },
}
RETIRED = {"ResourceConsumption_IAMUser__ComputeResources.json", "UnauthorizedAccess_EC2__TorIPCaller.json"}


def load(name: str) -> Any:
    return json.loads((REAL / name).read_text(encoding="utf-8"))


def found(issues: list[Any]) -> set[tuple[str, str]]:
    return {(issue.rule, issue.path) for issue in issues}


def test_every_sample_is_accounted_for() -> None:
    assert len(SAMPLES) == 25
    assert set(KNOWN_INVALID) <= set(SAMPLES)
    assert set(RETIRED) <= set(SAMPLES)


@pytest.mark.parametrize("name", [name for name in SAMPLES if name not in KNOWN_INVALID and name not in RETIRED])
def test_genuine_samples_validate_with_zero_issues(name: str) -> None:
    assert validate_document(load(name)) == []


@pytest.mark.parametrize("name", sorted(KNOWN_INVALID))
def test_edited_samples_are_rejected_where_they_were_edited(name: str) -> None:
    issues = validate_document(load(name))
    assert found(issues) == KNOWN_INVALID[name]
    assert not is_valid(issues)


@pytest.mark.parametrize("name", sorted(RETIRED))
def test_retired_types_are_errors_unless_allowed(name: str) -> None:
    document = load(name)
    strict = validate_document(document)
    assert found(strict) == {("retired-type", "$.detail.type")}
    assert strict[0].level == "error"

    lenient = validate_document(document, allow_retired=True)
    assert found(lenient) == {("retired-type", "$.detail.type")}
    assert lenient[0].level == "warning"
    assert is_valid(lenient)


def test_foxsec_events_are_events_and_their_paths_sit_under_detail() -> None:
    event = load("Trojan_EC2__DropPoint-bang-DNS.json")
    assert looks_like_event(event)
    event["detail"]["service"]["action"]["dnsRequestAction"]["domain"] = 7
    assert found(validate_document(event)) == {("type", "$.detail.service.action.dnsRequestAction.domain")}


def test_shape_only_ignores_semantics_but_not_the_model() -> None:
    canary = load("Canary_EC2__Stateless.IntegTest.json")
    assert {rule for rule, _ in found(validate_document(canary, strict_semantics=False))} == {"type"}
    panther = load("AttackSequence_S3__CompromisedData.json")
    assert found(validate_document(panther, strict_semantics=False)) == TIMESTAMPS
