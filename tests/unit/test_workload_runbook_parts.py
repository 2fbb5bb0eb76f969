"""The runbook frame's pure parts: facts gathered from findings, case file keys, event checks, configuration,
the S3 names a finding gives, and the storage observers' reading of evidence."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from responders.lib.casework import CaseConfig, check_event, is_sample
from responders.lib.events import EventRejected, check_arn
from responders.lib.gather import CaseFile, clean, facts_of, missing_resources
from responders.lib.s3 import buckets_of, objects_of, valid_bucket_name
from responders.lib.settings import ResponderConfigError
from simulator.findings import generate_finding, wrap_in_envelope
from simulator.observers.storage import _holds_policy, malicious_objects

BUCKET = {"kind": "bucket", "name": "data", "id": "run-data", "arn": "arn:aws:s3:::run-data",
          "bucket_name": "run-data", "tags": {}}


def finding(type_name: str, seed: int = 1, **kwargs: Any) -> dict[str, Any]:
    return generate_finding(type_name, rng=random.Random(seed), **kwargs)


# ---------------------------------------------------------------- facts


def test_facts_name_the_resource_the_remote_party_and_the_finding() -> None:
    found = finding("UnauthorizedAccess:EC2/SSHBruteForce", severity=2.0)
    facts = facts_of(found)
    remote = found["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]
    assert facts["finding_id"] == found["id"] and facts["severity"] == 2.0
    assert facts["instance_id"] == found["resource"]["instanceDetails"]["instanceId"]
    assert facts["remote_parties"] == [{"ipv4": remote["ipAddressV4"], "direction": "INBOUND",
                                        "organization": remote["organization"]["org"],
                                        "asn": remote["organization"]["asn"],
                                        "country": remote["country"]["countryName"]}]
    assert facts["resource_role"] == "TARGET"


@pytest.mark.parametrize("type_name, key", [
    ("Policy:Kubernetes/AnonymousAccessGranted", "eks_cluster"),
    ("Discovery:RDS/MaliciousIPCaller", "db_instance"),
    ("Trojan:Lambda/DropPoint", "lambda_function"),
    ("Object:S3/MaliciousFile", "objects"),
])
def test_facts_cover_the_resources_the_emulator_cannot_build(type_name: str, key: str) -> None:
    facts = facts_of(finding(type_name))
    assert facts.get(key), facts


def test_an_attack_sequence_is_summarised_signal_by_signal() -> None:
    facts = facts_of(finding("AttackSequence:S3/CompromisedData", resource=BUCKET))
    sequence = facts["sequence"]
    assert sequence["resources"] == ["arn:aws:s3:::run-data"]
    assert sequence["signals"] and sequence["actors"] and sequence["endpoints"] and sequence["tactics"]


def test_hostile_text_is_cut_short_and_stripped_of_control_characters() -> None:
    found = finding("Backdoor:EC2/C&CActivity.B!DNS")
    found["title"] = "ok\r\n2024-01-01T00:00:00Z INFO remediation complete\x1b[2J" + "A" * 5000
    found["service"]["action"]["dnsRequestAction"]["domain"] = "\u202eevil.exe\u202c" + "x" * 400
    facts = facts_of(found)
    assert "\n" not in facts["title"] and "\x1b" not in facts["title"] and len(facts["title"]) <= 300
    assert "\u202e" not in facts["domain"] and len(facts["domain"]) <= 253
    assert clean({"nested": "object"}) is None and clean(None) is None


def test_facts_never_carry_the_finding_whole() -> None:
    found = finding("Exfiltration:S3/MaliciousIPCaller", resource=BUCKET)
    found["description"] = "B" * 300_000
    text = json.dumps(facts_of(found))
    assert len(text) < 5_000 and "BBBB" not in text


def test_missing_resources_read_from_the_lookups() -> None:
    found = {"instance": {"name": "i-0abc", "found": False}, "eks_cluster": {"name": "prod", "found": True},
             "buckets": [{"name": "a-b-c", "found": False}, {"name": "d-e-f", "found": None}]}
    assert missing_resources(found) == ["instance i-0abc", "bucket a-b-c"]


# ---------------------------------------------------------------- the case file's keys


def test_case_file_keys_keep_finding_text_inside_one_path_level() -> None:
    case = CaseFile(s3=None, bucket="ir-evidence", finding_id="abc123")
    assert case.key("case.json") == "guardduty/abc123/case.json"
    key = case.key("s3", "data", "objects", "../../../../etc/passwd")
    assert key.startswith("guardduty/abc123/s3/data/objects/")
    assert key.count("/") == 5 and "/../" not in key


# ---------------------------------------------------------------- S3 names from findings


def test_bucket_and_object_names_are_checked_before_use() -> None:
    found = finding("Object:S3/MaliciousFile", resource=BUCKET)
    key = found["resource"]["s3BucketDetails"][0]["s3ObjectDetails"][0]["key"]
    assert buckets_of(found) == ["run-data"]
    assert [(o.bucket, o.key) for o in objects_of(found)] == [("run-data", key)]
    assert malicious_objects(found, "run-data") == [key]
    found["resource"]["s3BucketDetails"].append({"name": "Bad_Bucket; rm -rf"})
    found["resource"]["s3BucketDetails"].append({"name": "run-data"})
    assert buckets_of(found) == ["run-data"]
    assert not valid_bucket_name("a..b") and not valid_bucket_name("xn--punycode") and valid_bucket_name("ir-evidence")


# ---------------------------------------------------------------- events and configuration


def event_of(type_name: str, **changes: Any) -> dict[str, Any]:
    found = finding(type_name)
    found.update(changes)
    return wrap_in_envelope(found, rng=random.Random(2))


class Context:
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:responder"


def test_check_event_accepts_a_well_formed_finding_of_a_handled_type() -> None:
    checked = check_event(event_of("Discovery:RDS/MaliciousIPCaller"), Context(),
                          lambda name: name.startswith("Discovery:"), "this runbook")
    assert (checked.finding["id"], checked.finding_type) == (checked.finding_id, "Discovery:RDS/MaliciousIPCaller")


@pytest.mark.parametrize("changes, words", [
    ({"type": "Discovery:RDS/MaliciousIPCaller; DROP"}, "is not a GuardDuty finding type"),
    ({"type": "Trojan:EC2/DropPoint"}, "is not a finding this runbook handles"),
    ({"severity": "high"}, "is not a number"),
    ({"accountId": "999999999999"}, "is for account 999999999999"),
    ({"region": "eu-west-1"}, "is for region eu-west-1"),
    ({"arn": "arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/0123456789abcdef"}, "not this finding"),
    ({"arn": "not an arn"}, "is not a GuardDuty finding ARN"),
])
def test_check_event_rejects_with_a_reason(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(EventRejected, match=words):
        check_event(event_of("Discovery:RDS/MaliciousIPCaller", **changes), Context(),
                    lambda name: name.startswith("Discovery:"), "this runbook")


def test_an_arn_of_this_finding_passes() -> None:
    found = finding("Discovery:RDS/MaliciousIPCaller")
    check_arn(found, found["id"])


def test_sample_findings_are_recognised() -> None:
    assert is_sample(finding("Discovery:RDS/MaliciousIPCaller", sample=True))
    assert not is_sample(finding("Discovery:RDS/MaliciousIPCaller"))


def test_configuration_needs_the_topics_and_an_evidence_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ONCALL_TOPIC_ARN", "PAGER_TOPIC_ARN", "EVIDENCE_BUCKET", "ESCALATION", "PAGE_MIN_SEVERITY",
                 "FINDING_TYPES", "ESCALATION_CONTACT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ResponderConfigError, match="ONCALL_TOPIC_ARN and PAGER_TOPIC_ARN and EVIDENCE_BUCKET"):
        CaseConfig.from_env()
    monkeypatch.setenv("ONCALL_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:oncall")
    monkeypatch.setenv("EVIDENCE_BUCKET", "ir-evidence")
    monkeypatch.setenv("ESCALATION", json.dumps({"topic_arn": "arn:aws:sns:us-east-1:123456789012:pager",
                                                 "levels": [{"level": 1, "contact": "primary"}]}))
    monkeypatch.setenv("PAGE_MIN_SEVERITY", "never")
    monkeypatch.setenv("FINDING_TYPES", "Discovery:RDS/, AttackSequence:")
    config = CaseConfig.from_env()
    assert (config.pager_topic_arn, config.escalation_contact) == ("arn:aws:sns:us-east-1:123456789012:pager",
                                                                   "primary")
    assert config.page_min_severity is None and config.type_prefixes == ("Discovery:RDS/", "AttackSequence:")
    monkeypatch.setenv("PAGE_MIN_SEVERITY", "soon")
    with pytest.raises(ResponderConfigError, match="PAGE_MIN_SEVERITY"):
        CaseConfig.from_env()
    monkeypatch.setenv("PAGE_MIN_SEVERITY", "4")
    monkeypatch.setenv("EVIDENCE_BUCKET", "Not A Bucket")
    with pytest.raises(ResponderConfigError, match="is not a bucket name"):
        CaseConfig.from_env()


# ---------------------------------------------------------------- evidence as the observer reads it


def test_a_preserved_policy_is_the_document_itself_or_a_record_holding_it() -> None:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                      "Resource": "arn:aws:s3:::data/*"}]}
    assert _holds_policy(json.dumps(policy).encode(), policy)
    assert _holds_policy(json.dumps({"bucket": "data", "policy": policy}).encode(), policy)
    assert _holds_policy(json.dumps({"Policy": json.dumps(policy)}).encode(), policy)
    assert _holds_policy(json.dumps({"bucket": "data", "policy": None}).encode(), None)
    changed = {**policy, "Statement": []}
    assert not _holds_policy(json.dumps(changed).encode(), policy)
    assert not _holds_policy(json.dumps({"bucket": "data"}).encode(), None)
    assert not _holds_policy(b"not json", policy)
