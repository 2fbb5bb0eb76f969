"""Which operation a REST request is, from botocore's own request URIs."""

from __future__ import annotations

import pytest

from simulator.gateway.service_models import MODELS, service_for_scope, service_for_target


@pytest.mark.parametrize(("method", "path", "query", "headers", "operation"), [
    ("GET", "/", {}, {}, "ListBuckets"),
    ("GET", "/bucket", {}, {}, "ListObjects"),
    ("GET", "/bucket", {"list-type": ["2"]}, {}, "ListObjectsV2"),
    ("GET", "/bucket/", {"list-type": ["2"]}, {}, "ListObjectsV2"),
    ("PUT", "/bucket", {}, {}, "CreateBucket"),
    ("PUT", "/bucket", {"tagging": [""]}, {}, "PutBucketTagging"),
    ("PUT", "/bucket/a/b", {}, {}, "PutObject"),
    ("PUT", "/bucket/a/b", {}, {"x-amz-copy-source": "src/k"}, "CopyObject"),
    ("PUT", "/bucket/a/b", {"partNumber": ["1"], "uploadId": ["u"]}, {}, "UploadPart"),
    ("POST", "/bucket", {"delete": [""]}, {}, "DeleteObjects"),
    ("HEAD", "/bucket/key", {}, {}, "HeadObject"),
])
def test_s3_routes(method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
                   operation: str) -> None:
    router = MODELS.router("s3")
    assert router is not None
    matched = router.match(method, path, query, headers)
    assert matched is not None and matched[0].name == operation


@pytest.mark.parametrize(("method", "path", "operation", "labels"), [
    ("GET", "/detector", "ListDetectors", {}),
    ("GET", "/detector/abc", "GetDetector", {"DetectorId": "abc"}),
    ("POST", "/detector/abc/findings", "ListFindings", {"DetectorId": "abc"}),
    ("POST", "/detector/abc/findings/get", "GetFindings", {"DetectorId": "abc"}),
    ("POST", "/detector/abc/findings/archive", "ArchiveFindings", {"DetectorId": "abc"}),
    ("POST", "/detector/abc/findings/feedback", "UpdateFindingsFeedback", {"DetectorId": "abc"}),
    ("POST", "/detector/abc/findings/create", "CreateSampleFindings", {"DetectorId": "abc"}),
])
def test_guardduty_routes(method: str, path: str, operation: str, labels: dict[str, str]) -> None:
    router = MODELS.router("guardduty")
    assert router is not None
    matched = router.match(method, path, {})
    assert matched is not None
    assert (matched[0].name, matched[1]) == (operation, labels)


def test_unknown_path_matches_nothing() -> None:
    router = MODELS.router("guardduty")
    assert router is not None and router.match("GET", "/nowhere/at/all", {}) is None


def test_signing_names_map_to_botocore_services() -> None:
    assert service_for_scope("states", "/") == "stepfunctions"
    assert service_for_scope("monitoring", "/") == "cloudwatch"
    assert service_for_scope("ses", "/v2/email/outbound-emails") == "sesv2"
    assert service_for_scope("ses", "/") == "ses"
    assert service_for_scope("elasticloadbalancing", "/", "2012-06-01") == "elb"
    assert service_for_scope("EC2", "/") == "ec2"
    assert service_for_target("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents") == "cloudtrail"
    assert service_for_target("AmazonSQS.SendMessage") == "sqs"
    assert service_for_target("Unknown_2020.Op") is None


def test_an_unknown_service_has_no_model() -> None:
    assert MODELS.model("no-such-service") is None
    assert MODELS.router("no-such-service") is None
    assert MODELS.operation("ec2", "NoSuchOperation") is None
