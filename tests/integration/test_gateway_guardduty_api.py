"""The GuardDuty findings API through a boto3 guardduty client, over findings the harness injected."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from simulator.gateway import Gateway, Journal
from simulator.gateway.findings_store import FindingsStore
from simulator.targets.base import Sandbox
from simulator.targets.moto import MotoTarget

pytestmark = pytest.mark.integration

REAL = Path(__file__).resolve().parents[1] / "data" / "real_findings"


def real_finding(name: str) -> dict[str, Any]:
    document = json.loads((REAL / f"{name}.json").read_text())
    return document.get("detail", document)


TOR = real_finding("UnauthorizedAccess_EC2__TorIPCaller")
SPAMBOT = real_finding("Backdoor_EC2__Spambot")
DOS = real_finding("Backdoor_EC2__DenialOfService.Tcp")
DETECTOR = TOR["service"]["detectorId"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with MotoTarget(preload=()) as sandbox:
        yield sandbox


@pytest.fixture
def gateway(sandbox: Sandbox) -> Iterator[Gateway]:
    with Gateway(sandbox.endpoint_url or "", Journal(), region=sandbox.region,
                 account_id=sandbox.account_id) as gateway:
        for finding in (TOR, SPAMBOT, DOS):
            gateway.findings.add(finding)
        yield gateway


@pytest.fixture
def guardduty(sandbox: Sandbox, gateway: Gateway) -> Any:
    return sandbox.client("guardduty", endpoint_url=gateway.url)


def test_the_detector_is_the_one_the_findings_name(guardduty: Any) -> None:
    assert guardduty.list_detectors()["DetectorIds"] == [DETECTOR]
    assert guardduty.get_detector(DetectorId=DETECTOR)["Status"] == "ENABLED"


def test_get_findings_parses_into_boto3_shapes(guardduty: Any, gateway: Gateway) -> None:
    findings = guardduty.get_findings(DetectorId=DETECTOR, FindingIds=[TOR["id"], "unknown"])["Findings"]
    assert len(findings) == 1
    finding = findings[0]
    assert (finding["Id"], finding["Type"], finding["Severity"]) == (TOR["id"], TOR["type"], TOR["severity"])
    assert finding["Resource"]["InstanceDetails"]["InstanceId"] == TOR["resource"]["instanceDetails"]["instanceId"]
    assert finding["Service"]["Archived"] is False
    assert gateway.journal.entries()[-1].operation == "GetFindings"
    assert not gateway.journal.entries()[-1].mutating


def test_list_findings_with_criteria_and_paging(guardduty: Any) -> None:
    by_type = guardduty.list_findings(DetectorId=DETECTOR, FindingCriteria={
        "Criterion": {"type": {"Eq": [SPAMBOT["type"]]}}})["FindingIds"]
    assert by_type == [SPAMBOT["id"]]
    high = guardduty.list_findings(DetectorId=DETECTOR, FindingCriteria={"Criterion": {"severity": {"Gte": 7}}})
    assert high["FindingIds"] == [DOS["id"]]
    pages = list(guardduty.get_paginator("list_findings").paginate(DetectorId=DETECTOR,
                                                                   PaginationConfig={"PageSize": 2}))
    assert [len(page["FindingIds"]) for page in pages] == [2, 1]


def test_archive_and_unarchive(guardduty: Any, gateway: Gateway) -> None:
    guardduty.archive_findings(DetectorId=DETECTOR, FindingIds=[TOR["id"]])
    assert gateway.findings.is_archived(TOR["id"])
    current = guardduty.list_findings(DetectorId=DETECTOR, FindingCriteria={
        "Criterion": {"service.archived": {"Eq": ["false"]}}})["FindingIds"]
    assert TOR["id"] not in current and len(current) == 2
    entry = gateway.journal.entries()[-2]
    assert (entry.service, entry.operation, entry.mutating) == ("guardduty", "ArchiveFindings", True)
    assert entry.resource_ids == (DETECTOR, TOR["id"])
    guardduty.unarchive_findings(DetectorId=DETECTOR, FindingIds=[TOR["id"]])
    assert not gateway.findings.is_archived(TOR["id"])


def test_feedback_is_recorded(guardduty: Any, gateway: Gateway) -> None:
    guardduty.update_findings_feedback(DetectorId=DETECTOR, FindingIds=[SPAMBOT["id"]], Feedback="NOT_USEFUL",
                                       Comments="test host")
    assert [(record.finding_ids, record.feedback, record.comments) for record in gateway.findings.feedback] == [
        ((SPAMBOT["id"],), "NOT_USEFUL", "test host")]
    assert guardduty.get_findings(DetectorId=DETECTOR, FindingIds=[SPAMBOT["id"]])["Findings"][0]["Service"][
        "UserFeedback"] == "NOT_USEFUL"


def test_sample_findings_come_from_the_finding_factory(guardduty: Any, gateway: Gateway) -> None:
    guardduty.create_sample_findings(DetectorId=DETECTOR, FindingTypes=["CryptoCurrency:EC2/BitcoinTool.B!DNS"])
    samples = guardduty.list_findings(DetectorId=DETECTOR, FindingCriteria={
        "Criterion": {"type": {"Eq": ["CryptoCurrency:EC2/BitcoinTool.B!DNS"]}}})["FindingIds"]
    assert len(samples) == 1
    sample = guardduty.get_findings(DetectorId=DETECTOR, FindingIds=samples)["Findings"][0]
    assert sample["Arn"].endswith(f"detector/{DETECTOR}/finding/{samples[0]}")
    assert json.loads(sample["Service"]["AdditionalInfo"]["Value"]) == {"sample": True}


def test_a_custom_sample_factory(sandbox: Sandbox) -> None:
    def from_real(type_name: str, store: FindingsStore) -> dict[str, Any]:
        finding = copy.deepcopy(TOR)
        finding.update(id=f"sample{len(store):026d}", type=type_name)
        return finding

    with Gateway(sandbox.endpoint_url or "", Journal()) as gateway:
        gateway.guardduty.sample_factory = from_real
        guardduty = sandbox.client("guardduty", endpoint_url=gateway.url)
        detector = guardduty.list_detectors()["DetectorIds"][0]
        guardduty.create_sample_findings(DetectorId=detector, FindingTypes=["Recon:EC2/PortProbeUnprotectedPort"])
        assert [finding["type"] for finding in gateway.findings.all()] == ["Recon:EC2/PortProbeUnprotectedPort"]
        assert gateway.findings.all()[0]["service"]["detectorId"] == detector


@pytest.mark.parametrize(("call", "code"), [
    (lambda gd: gd.get_findings(DetectorId="0" * 32, FindingIds=["x"]), "BadRequestException"),
    (lambda gd: gd.create_sample_findings(DetectorId=DETECTOR, FindingTypes=["Made:Up/Type"]),
     "BadRequestException"),
    (lambda gd: gd.list_findings(DetectorId=DETECTOR, FindingCriteria={"Criterion": {"type": {}}}),
     "BadRequestException"),
])
def test_bad_requests(guardduty: Any, call: Any, code: str) -> None:
    with pytest.raises(ClientError) as raised:
        call(guardduty)
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
