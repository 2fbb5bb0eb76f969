"""The findings store over real GuardDuty findings: criteria, archiving, feedback, detectors."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from simulator.gateway.findings_store import CriteriaError, FindingsStore, default_detector_id, field_values

REAL = Path(__file__).resolve().parent.parent / "data" / "real_findings"
FOXSEC_DETECTOR = "955624e422acc98f6cdb16ab4ab41d23"


def real_finding(name: str) -> dict[str, Any]:
    document = json.loads((REAL / f"{name}.json").read_text())
    return document.get("detail", document)


def foxsec_findings() -> list[dict[str, Any]]:
    found = []
    for path in sorted(REAL.glob("*.json")):
        if path.name.endswith(".source.json") or path.name == "MANIFEST.json":
            continue
        finding = real_finding(path.stem)
        if finding.get("service", {}).get("detectorId") == FOXSEC_DETECTOR:
            found.append(finding)
    return found


@pytest.fixture
def store() -> FindingsStore:
    store = FindingsStore(account_id="123456789012", region="us-west-2")
    for finding in foxsec_findings():
        store.add(finding)
    return store


def ids_of(findings: list[dict[str, Any]]) -> set[str]:
    return {finding["id"] for finding in findings}


def test_the_account_has_the_detector_its_findings_name(store: FindingsStore) -> None:
    assert store.detector_ids == [FOXSEC_DETECTOR]
    assert store.detector_id == FOXSEC_DETECTOR
    assert FindingsStore().detector_ids == [default_detector_id("123456789012", "us-east-1")]
    assert FindingsStore(detector_id="abc").detector_id == "abc"


def test_get_keeps_the_order_asked_and_leaves_unknown_ids_out(store: FindingsStore) -> None:
    first, second = (finding["id"] for finding in foxsec_findings()[:2])
    assert [finding["id"] for finding in store.get([second, "unknown", first])] == [second, first]
    assert store.get([first], detector_id="another-detector") == []


def test_returned_findings_are_copies(store: FindingsStore) -> None:
    finding = store.all()[0]
    finding["service"]["archived"] = True
    assert not store.is_archived(finding["id"])


def test_criteria_on_type_severity_instance_and_id(store: FindingsStore) -> None:
    tor = real_finding("UnauthorizedAccess_EC2__TorIPCaller")
    assert ids_of(store.find({"criterion": {"type": {"eq": ["UnauthorizedAccess:EC2/TorIPCaller"]}}})) == {tor["id"]}
    high = store.find({"criterion": {"severity": {"gte": 7}}})
    assert high and all(finding["severity"] >= 7 for finding in high)
    assert len(high) < len(store)
    assert ids_of(store.find({"criterion": {"id": {"equals": [tor["id"]]}}})) == {tor["id"]}
    on_instance = store.find({"criterion": {"resource.instanceDetails.instanceId": {"eq": ["i-99999999"]}}})
    assert all(finding["resource"]["resourceType"] == "Instance" for finding in on_instance)
    assert len(store.find({"criterion": {"type": {"neq": ["UnauthorizedAccess:EC2/TorIPCaller"]}}})) == len(store) - 1


def test_nested_lists_are_searched(store: FindingsStore) -> None:
    criterion = {"resource.instanceDetails.networkInterfaces.securityGroups.groupId":
                 {"eq": ["GeneratedFindingSecurityId"]}}
    assert store.find({"criterion": criterion})
    assert not store.find({"criterion": {"resource.instanceDetails.networkInterfaces.securityGroups.groupId":
                                         {"eq": ["sg-not-there"]}}})


def test_timestamps_compare_as_epoch_milliseconds(store: FindingsStore) -> None:
    boundary = datetime.fromisoformat("2019-06-09T19:10:23.300+00:00").timestamp() * 1000
    later = store.find({"criterion": {"updatedAt": {"gt": boundary}}})
    earlier = store.find({"criterion": {"updatedAt": {"lte": boundary}}})
    assert later and earlier
    assert len(later) + len(earlier) == len(store)


def test_archiving_and_the_archived_criterion(store: FindingsStore) -> None:
    target = foxsec_findings()[0]["id"]
    assert len(store.find({"criterion": {"service.archived": {"eq": ["false"]}}})) == len(store)
    assert store.archive([target, "unknown"]) == [target]
    assert ids_of(store.find({"criterion": {"service.archived": {"eq": ["true"]}}})) == {target}
    store.unarchive([target])
    assert not store.is_archived(target)


def test_a_new_occurrence_keeps_what_the_user_did(store: FindingsStore) -> None:
    finding = foxsec_findings()[0]
    store.archive([finding["id"]])
    store.record_feedback([finding["id"]], "USEFUL", "seen")
    updated = json.loads(json.dumps(finding))
    updated["service"]["count"] = 5
    updated["service"]["archived"] = False
    store.add(updated)
    stored = store.get([finding["id"]])[0]
    assert stored["service"]["count"] == 5
    assert stored["service"]["archived"] is True
    assert stored["service"]["userFeedback"] == "USEFUL"
    assert store.feedback[0].finding_ids == (finding["id"],) and store.feedback[0].comments == "seen"


def test_sorting_by_severity(store: FindingsStore) -> None:
    ordered = store.find(None, sort={"attributeName": "severity", "orderBy": "DESC"})
    severities = [finding["severity"] for finding in ordered]
    assert severities == sorted(severities, reverse=True)


@pytest.mark.parametrize("criteria", [
    {"criterion": {"type": {"like": ["x"]}}},
    {"criterion": {"type": {}}},
    {"criterion": ["type"]},
])
def test_malformed_criteria_are_refused(store: FindingsStore, criteria: dict[str, Any]) -> None:
    with pytest.raises(CriteriaError):
        store.find(criteria)


def test_a_finding_needs_an_id() -> None:
    with pytest.raises(ValueError, match="id"):
        FindingsStore().add({"type": "Recon:EC2/PortProbeUnprotectedPort"})


def test_field_values_fans_out_lists() -> None:
    finding = {"a": [{"b": [{"c": 1}, {"c": 2}]}, {"b": {"c": 3}}]}
    assert field_values(finding, "a.b.c") == [1, 2, 3]
    assert field_values(finding, "a.x") == []
