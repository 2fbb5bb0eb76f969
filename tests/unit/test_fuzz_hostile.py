"""Hostile variants break what they claim to break, and only that."""

from __future__ import annotations

import ipaddress
import json
import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings

from simulator.findings import types_by_family, wrap_in_envelope
from simulator.fuzz import ATTACKS, HostileFinding, findings, hostile_variant
from simulator.fuzz._hostile import EVENTBRIDGE_LIMIT, LOG_FORGING, SHELL_PAYLOADS, SQL_PAYLOADS
from simulator.validate import check_shape, validate_event, validate_finding

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
ONE_PER_FAMILY = [types[-1] for types in types_by_family().values()]
# Attacks the validator must flag (the others keep a valid shape and only lie about the world).
SEMANTIC = {"unknown-type", "retired-type", "arn-mismatch", "severity-out-of-band", "severity-out-of-scale",
            "time-reversed", "type-resource-mismatch", "oversize-over-limit"}


def event_size(finding: dict) -> int:
    return len(json.dumps(wrap_in_envelope(finding, rng=random.Random(0)), separators=(",", ":"),
                          ensure_ascii=False).encode())


@pytest.mark.parametrize("attack", sorted(ATTACKS))
@pytest.mark.parametrize("type_name", ONE_PER_FAMILY)
def test_breaks_schema_says_whether_the_shape_breaks(attack: str, type_name: str) -> None:
    hostile = hostile_variant(random.Random(f"{attack}{type_name}"), type_name, attack=attack, now=NOW)
    assert hostile.attack == attack and hostile.target.startswith("$") and hostile.expected
    shape_issues = check_shape(hostile.finding)
    assert bool(shape_issues) == hostile.breaks_schema, [issue.render() for issue in shape_issues][:3]
    if attack in SEMANTIC:
        assert validate_finding(hostile.finding), f"{attack} went unnoticed"


@pytest.mark.parametrize("attack", ["shell-injection", "sql-injection", "log-forging"])
def test_injection_payloads_land_where_responders_interpolate(attack: str) -> None:
    payloads = {"shell-injection": SHELL_PAYLOADS, "sql-injection": SQL_PAYLOADS, "log-forging": LOG_FORGING}[attack]
    for seed in range(10):
        hostile = hostile_variant(random.Random(seed), "CryptoCurrency:EC2/BitcoinTool.B!DNS", attack=attack, now=NOW)
        text = json.dumps(hostile.finding, ensure_ascii=False)
        assert any(json.dumps(payload, ensure_ascii=False)[1:-1] in text for payload in payloads)
        assert check_shape(hostile.finding) == []


def test_oversize_events_sit_just_under_and_just_over_eventbridges_limit() -> None:
    for seed in range(5):
        near = hostile_variant(random.Random(seed), "Recon:EC2/Portscan", attack="oversize-near-limit", now=NOW)
        over = hostile_variant(random.Random(seed), "Recon:EC2/Portscan", attack="oversize-over-limit", now=NOW)
        assert EVENTBRIDGE_LIMIT - 4096 < event_size(near.finding) <= EVENTBRIDGE_LIMIT
        assert EVENTBRIDGE_LIMIT < event_size(over.finding) <= EVENTBRIDGE_LIMIT + 8192
        assert validate_finding(near.finding) == []


def test_duplicates_and_reordered_updates_come_as_event_sequences() -> None:
    duplicate = hostile_variant(random.Random(1), "Recon:EC2/Portscan", attack="duplicate-delivery", now=NOW)
    first, second = duplicate.events
    assert first == second and first["detail"]["id"] == duplicate.finding["id"]
    republished = hostile_variant(random.Random(1), "Recon:EC2/Portscan", attack="republished-finding", now=NOW)
    assert republished.events[0]["id"] != republished.events[1]["id"]
    assert republished.events[0]["detail"] == republished.events[1]["detail"]
    for seed in range(10):
        reordered = hostile_variant(random.Random(seed), "UnauthorizedAccess:EC2/SSHBruteForce",
                                    attack="reordered-updates", now=NOW)
        counts = [event["detail"]["service"]["count"] for event in reordered.events]
        assert len(counts) >= 2 and counts != sorted(counts)
        assert reordered.finding["service"]["count"] == max(counts)
        assert len({event["detail"]["id"] for event in reordered.events}) == 1
        assert all(validate_event(event) == [] for event in reordered.events)


def test_private_remote_addresses_are_not_public() -> None:
    for seed in range(10):
        hostile = hostile_variant(random.Random(seed), "UnauthorizedAccess:EC2/SSHBruteForce",
                                  attack="private-remote-ip", now=NOW)
        address = hostile.finding["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]["ipAddressV4"]
        assert not ipaddress.ip_address(address).is_global


def test_lookalike_ids_differ_from_the_ascii_they_imitate() -> None:
    hostile = hostile_variant(random.Random(2), "Recon:EC2/Portscan", attack="lookalike-resource", now=NOW)
    instance_id = hostile.finding["resource"]["instanceDetails"]["instanceId"]
    assert not instance_id.isascii() and instance_id.encode("ascii", "replace").startswith(b"?")


def test_hostile_variants_are_reproducible() -> None:
    first = hostile_variant(random.Random(9), "Trojan:EC2/DropPoint", now=NOW)
    again = hostile_variant(random.Random(9), "Trojan:EC2/DropPoint", now=NOW)
    assert first == again


def test_an_unknown_attack_is_refused() -> None:
    with pytest.raises(KeyError, match="unknown attack"):
        hostile_variant(random.Random(1), "Trojan:EC2/DropPoint", attack="telepathy")


@settings(max_examples=150, derandomize=True, deadline=None)
@given(findings(variant="hostile"))
def test_the_hostile_strategy_labels_every_example(hostile: HostileFinding) -> None:
    assert isinstance(hostile, HostileFinding) and hostile.attack in ATTACKS
    assert bool(check_shape(hostile.finding)) == hostile.breaks_schema
    assert hostile.is_sequence == (hostile.attack in ("duplicate-delivery", "republished-finding",
                                                      "reordered-updates"))
