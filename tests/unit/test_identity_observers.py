"""The identity observers that need no sandbox: a CloudTrail review read from a journal, the kinds and
their parameters, and the observation loop sharing its journal with every observer."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from simulator.gateway.journal import Journal, JournalEntry
from simulator.observers import ObservationLoop, check_params, create_observer, registered_kinds
from simulator.observers.identity import CloudTrailReviewed, lookup_attributes, principal_names

USER = {"kind": "user", "name": "ci-deployer", "user_name": "run-ci-deployer", "id": "AIDAEXAMPLE000000001",
        "arn": "arn:aws:iam::123456789012:user/run-ci-deployer",
        "access_keys": [{"id": "AKIAEXAMPLE000000001"}, {"id": "AKIAEXAMPLE000000002"}]}
OTHER = {**USER, "name": "analyst", "user_name": "run-analyst", "arn": "arn:aws:iam::123456789012:user/run-analyst",
         "access_keys": [{"id": "AKIAEXAMPLE000000009"}]}
ROLE = {"kind": "role", "name": "orders-role", "role_name": "run-orders-role", "id": "AROAEXAMPLE000000001",
        "arn": "arn:aws:iam::123456789012:role/run-orders-role"}
ENV = SimpleNamespace(resources={"ci-deployer": USER, "analyst": OTHER, "orders-role": ROLE})
FINDING = {"id": "f" * 32, "resource": {"resourceType": "AccessKey", "accessKeyDetails": {
    "accessKeyId": "AKIAEXAMPLE000000001", "userName": "run-ci-deployer", "userType": "IAMUser"}}}


def lookup(journal: Journal, key: str, value: str, *, status: int = 200, wall: float | None = None) -> JournalEntry:
    now = time.monotonic()
    return journal.append(JournalEntry(
        seq=0, mono=now, mono_start=now - 0.01, wall=wall if wall is not None else time.time(), service="cloudtrail",
        operation="LookupEvents", region="us-east-1", caller="AKIARESPONDER0000001", resource_ids=(),
        params={"LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}]}, status=status,
        error_code=None if status == 200 else "InvalidLookupAttributesException", fault=None, mutating=False))


def reviewer(params: dict[str, str], finding: dict[str, Any] = FINDING, journal: Journal | None = None
             ) -> CloudTrailReviewed:
    observer = create_observer("cloudtrail_reviewed", params, ENV, finding)
    assert isinstance(observer, CloudTrailReviewed)
    observer.injected_wall = time.time() - 0.5
    observer.journal = journal
    return observer


def test_identity_kinds_are_registered_with_their_parameters() -> None:
    kinds = registered_kinds()
    assert kinds["user_sessions_revoked"].describe_params() == "{user}"
    assert kinds["instance_profile_replaced"].describe_params() == "{instance}"
    assert kinds["cloudtrail_reviewed"].describe_params() == "{user} or {role}"
    assert check_params("cloudtrail_reviewed", {"instance": "x"}) == [
        "cloudtrail_reviewed needs {user} or {role}",
        "cloudtrail_reviewed does not take instance (it takes {user} or {role})"]


def test_without_a_journal_a_review_cannot_be_seen() -> None:
    observer = reviewer({"user": "ci-deployer"})
    assert observer.check(None) is False  # type: ignore[arg-type]
    assert observer.detail is not None and "journal" in observer.detail


@pytest.mark.parametrize("key, value", [("Username", "run-ci-deployer"), ("AccessKeyId", "AKIAEXAMPLE000000002"),
                                        ("ResourceName", "arn:aws:iam::123456789012:user/run-ci-deployer")])
def test_a_lookup_naming_the_user_holds(key: str, value: str) -> None:
    journal = Journal()
    observer = reviewer({"user": "ci-deployer"}, journal=journal)
    assert observer.check(None) is False  # type: ignore[arg-type]

    entry = lookup(journal, key, value)

    assert observer.check(None) is True  # type: ignore[arg-type]
    assert observer.is_causing(entry)


def test_lookups_of_someone_else_failed_ones_and_earlier_ones_do_not_count() -> None:
    journal = Journal()
    observer = reviewer({"user": "ci-deployer"}, journal=journal)
    lookup(journal, "Username", "run-analyst")
    lookup(journal, "Username", "run-ci-deployer", status=400)
    lookup(journal, "Username", "run-ci-deployer", wall=time.time() - 3600)
    lookup(journal, "EventName", "run-ci-deployer")  # not an attribute that names a principal

    assert observer.check(None) is False  # type: ignore[arg-type]
    assert observer.detail == "no CloudTrail lookup of run-ci-deployer's events since injection"


def test_a_role_is_reviewed_through_the_key_the_finding_saw_it_use() -> None:
    stolen = {"id": "e" * 32, "resource": {"resourceType": "AccessKey", "accessKeyDetails": {
        "accessKeyId": "ASIAEXAMPLESTOLEN001", "userName": "run-orders-role", "userType": "AssumedRole",
        "principalId": "AROAEXAMPLE000000001:i-0123456789abcdef0"}}}
    journal = Journal()
    observer = reviewer({"role": "orders-role"}, stolen, journal)

    lookup(journal, "AccessKeyId", "ASIAEXAMPLESTOLEN001")

    assert observer.check(None) is True  # type: ignore[arg-type]
    assert principal_names(ROLE, stolen) == {"run-orders-role", "orders-role", "ASIAEXAMPLESTOLEN001",
                                             "arn:aws:iam::123456789012:role/run-orders-role"}
    assert "ASIAEXAMPLESTOLEN001" not in principal_names(ROLE, FINDING)


def test_lookup_attributes_ignore_what_is_not_an_attribute() -> None:
    assert lookup_attributes({"LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": "a"}, "x",
                                                   {"AttributeKey": 1, "AttributeValue": "b"}]}) == [("Username", "a")]
    assert lookup_attributes({}) == []


def test_the_observation_loop_shares_its_journal_with_every_observer() -> None:
    journal = Journal()
    observers = {"review": reviewer({"user": "ci-deployer"}), "other": reviewer({"user": "analyst"})}

    ObservationLoop(None, journal, observers, injected_mono=0.0, deadline_mono=0.0)  # type: ignore[arg-type]

    assert all(observer.journal is journal for observer in observers.values())
