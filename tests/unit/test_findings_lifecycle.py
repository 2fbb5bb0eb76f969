"""EventBridge envelopes and aggregated updates behave as GuardDuty documents."""

from __future__ import annotations

import copy
import random
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.catalog import active_types
from simulator.errors import InputError
from simulator.findings import aggregate_update, generate_finding, wrap_in_envelope
from simulator.findings.clock import parse_iso

ACTIVE = sorted(active_types())
NOW = datetime(2025, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)
WHOLE_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def brute_force(seed: int = 1) -> dict:
    return generate_finding("UnauthorizedAccess:EC2/SSHBruteForce", rng=random.Random(seed), now=NOW)


# --- envelope ------------------------------------------------------------------------------------------


def test_envelope_members_are_those_guardduty_sends() -> None:
    finding = brute_force()
    event = wrap_in_envelope(finding, rng=random.Random(2))
    assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources",
                           "detail"]
    assert event["version"] == "0" and event["detail-type"] == "GuardDuty Finding"
    assert event["source"] == "aws.guardduty" and event["resources"] == []
    assert (event["account"], event["region"]) == (finding["accountId"], finding["region"])
    assert uuid.UUID(event["id"]).version == 4
    assert event["detail"] is finding


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.sampled_from(ACTIVE), st.integers(0, 2**32 - 1))
def test_event_time_is_whole_seconds_at_or_after_the_update(type_name: str, seed: int) -> None:
    rng = random.Random(seed)
    finding = generate_finding(type_name, rng=rng, now=NOW)
    event = wrap_in_envelope(finding, rng=rng)
    assert WHOLE_SECONDS.match(event["time"])
    delay_ms = parse_iso(event["time"]) - parse_iso(finding["updatedAt"])
    assert 0 <= delay_ms <= 301_000  # published within GuardDuty's five-minute window


def test_envelopes_are_reproducible_from_the_rng_and_stable_without_one() -> None:
    finding = brute_force()
    assert wrap_in_envelope(finding, rng=random.Random(5)) == wrap_in_envelope(finding, rng=random.Random(5))
    assert wrap_in_envelope(finding)["id"] == wrap_in_envelope(copy.deepcopy(finding))["id"]
    assert wrap_in_envelope(finding)["time"] == "2025-05-01T12:00:01Z"  # rounded up past .123
    later = aggregate_update(finding, rng=random.Random(3))
    assert wrap_in_envelope(later)["id"] != wrap_in_envelope(finding)["id"]


def test_explicit_time_and_delegated_administrator_account() -> None:
    finding = brute_force()
    event = wrap_in_envelope(finding, time=NOW + timedelta(minutes=4, seconds=1), account="999988887777")
    assert event["time"] == "2025-05-01T12:04:02Z"
    assert event["account"] == "999988887777" and event["detail"]["accountId"] == "123456789012"
    with pytest.raises(InputError, match="before the finding's updatedAt"):
        wrap_in_envelope(finding, time=NOW - timedelta(seconds=1))


def test_malformed_findings_are_still_wrapped() -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    event = wrap_in_envelope({"type": 42, "updatedAt": "never"}, rng=random.Random(1))
    assert event["account"] == "000000000000" and event["region"] == "us-east-1"
    assert WHOLE_SECONDS.match(event["time"])
    assert parse_iso(event["time"]) >= before.timestamp() * 1000  # published "now", not at the epoch


# --- aggregation -----------------------------------------------------------------------------------------


@settings(max_examples=120, derandomize=True, deadline=None)
@given(st.sampled_from(ACTIVE), st.integers(0, 2**32 - 1), st.integers(1, 50))
def test_an_update_keeps_identity_and_moves_only_forward(type_name: str, seed: int, occurrences: int) -> None:
    rng = random.Random(seed)
    finding = generate_finding(type_name, rng=rng, now=NOW)
    before = copy.deepcopy(finding)
    updated = aggregate_update(finding, rng=rng, occurrences=occurrences)
    assert finding == before  # the input is left alone
    for key in ("id", "arn", "type", "createdAt", "accountId", "region", "resource", "severity"):
        assert updated[key] == finding[key], key
    service, old = updated["service"], finding["service"]
    assert service["count"] == old["count"] + occurrences
    assert service["eventFirstSeen"] == old["eventFirstSeen"]
    assert parse_iso(updated["updatedAt"]) > parse_iso(finding["updatedAt"])
    assert parse_iso(old["eventLastSeen"]) <= parse_iso(service["eventLastSeen"]) <= parse_iso(updated["updatedAt"])
    assert service["resourceRole"] == old["resourceRole"] and service["detectorId"] == old["detectorId"]
    assert updated.get("customDetectionRuleName") == finding.get("customDetectionRuleName")


def test_the_latest_occurrence_overwrites_the_details() -> None:
    finding = brute_force()
    remote = finding["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]["ipAddressV4"]
    updates = [aggregate_update(finding, rng=random.Random(seed)) for seed in range(8)]
    new_remotes = {u["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]["ipAddressV4"]
                   for u in updates}
    assert new_remotes - {remote}, "a new attacker address replaces remoteIpDetails"
    for update in updates:
        address = update["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]["ipAddressV4"]
        assert address in update["title"]  # the text describes the latest occurrence too


def test_an_update_at_a_given_time_and_repeated_updates() -> None:
    finding = brute_force()
    at = NOW + timedelta(hours=6)
    updated = aggregate_update(finding, rng=random.Random(1), occurrences=3, at=at)
    assert updated["updatedAt"] == "2025-05-01T18:00:00.123Z"
    again = aggregate_update(updated, rng=random.Random(2), occurrences=2)
    assert again["service"]["count"] == finding["service"]["count"] + 5
    with pytest.raises(InputError, match="before the finding's updatedAt"):
        aggregate_update(updated, rng=random.Random(3), at=NOW)
    with pytest.raises(InputError, match="at least 1"):
        aggregate_update(finding, rng=random.Random(3), occurrences=0)


def test_findings_of_unknown_types_only_count_up() -> None:
    finding = brute_force()
    finding["type"] = "UnauthorizedAccess:EC2/TorIPCaller"  # retired: no recipe to describe it again
    updated = aggregate_update(finding, rng=random.Random(1), occurrences=2)
    assert updated["service"]["action"] == finding["service"]["action"]
    assert updated["service"]["count"] == finding["service"]["count"] + 2
    with pytest.raises(InputError, match="updatedAt"):
        aggregate_update({"type": "x"}, rng=random.Random(1))
