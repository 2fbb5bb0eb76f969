"""Requests exactly as botocore puts them on the wire, read back by the gateway's decoder.

botocore serializes each call for real; a ``before-send`` handler takes the prepared request off the
client before any connection is made. The decoder must give back the boto3 parameters for every protocol.
"""

from __future__ import annotations

import gzip
import io
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore import xform_name
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.gateway.protocols import WireRequest, credential_scope, identify, is_mutating

ACCESS_KEY = "AKIAGDSIMTESTKEY0001"


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def _capture(request: Any, **_: Any) -> None:
    raise _Captured(request)


@cache
def _client(service: str, region: str = "us-east-1") -> Any:
    client = boto3.session.Session().client(
        service, region_name=region, endpoint_url="http://127.0.0.1:9", aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key="secret",
    )
    client.meta.events.register("before-send", _capture)
    return client


def wire(service: str, operation: str, *, region: str = "us-east-1", **params: Any) -> WireRequest:
    """The request botocore sends for ``operation(**params)``."""
    try:
        getattr(_client(service, region), xform_name(operation))(**params)
    except _Captured as captured:
        request = captured.request
    else:  # pragma: no cover - the handler always raises
        raise AssertionError("botocore sent nothing")
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    headers = {
        name.lower(): value.decode() if isinstance(value, bytes) else str(value)
        for name, value in request.headers.items()
    }
    url = urlsplit(request.url)
    return WireRequest(request.method, url.path or "/", url.query, headers, body or b"")


CASES = [
    # (service, operation, params, protocol)
    ("ec2", "ModifyInstanceAttribute", {"InstanceId": "i-0123456789abcdef0", "Groups": ["sg-0a", "sg-0b"]}, "ec2"),
    ("ec2", "CreateTags", {"Resources": ["i-1", "vol-2"], "Tags": [{"Key": "gdsim:finding-id", "Value": "f1"}]}, "ec2"),
    ("ec2", "DescribeInstances", {"InstanceIds": ["i-1"], "Filters": [{"Name": "tag:a", "Values": ["x", "y"]}],
                                  "MaxResults": 5}, "ec2"),
    ("ec2", "ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": "eni-1", "Groups": ["sg-1"]}, "ec2"),
    ("ec2", "StopInstances", {"InstanceIds": ["i-1", "i-2"], "Force": True}, "ec2"),
    ("ec2", "AuthorizeSecurityGroupIngress", {
        "GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                              "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]}, "ec2"),
    ("iam", "UpdateAccessKey", {"UserName": "alice", "AccessKeyId": "AKIAEXAMPLE000000001", "Status": "Inactive"},
     "query"),
    ("iam", "CreateUser", {"UserName": "bob", "Tags": [{"Key": "team", "Value": "ir"}]}, "query"),
    ("iam", "DeleteLoginProfile", {"UserName": "alice"}, "query"),
    ("iam", "PutRolePolicy", {"RoleName": "r", "PolicyName": "revoke", "PolicyDocument": '{"Version": "2012-10-17"}'},
     "query"),
    ("sns", "Publish", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:pager", "Message": '{"level": 2}',
                        "MessageAttributes": {"level": {"DataType": "Number", "StringValue": "2"}}}, "query"),
    ("sqs", "SendMessage", {"QueueUrl": "http://127.0.0.1:9/123456789012/q", "MessageBody": "hi",
                            "DelaySeconds": 1}, "json"),
    ("stepfunctions", "StartExecution", {"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:s",
                                         "input": "{}"}, "json"),
    ("events", "PutRule", {"Name": "gd", "EventPattern": '{"source": ["aws.guardduty"]}'}, "json"),
    ("cloudtrail", "LookupEvents", {"LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": "alice"}],
                                    "MaxResults": 10}, "json"),
    ("guardduty", "ListFindings", {"DetectorId": "d1", "FindingCriteria": {"Criterion": {"type": {"Eq": ["T"]}}},
                                   "MaxResults": 5}, "rest-json"),
    ("guardduty", "ArchiveFindings", {"DetectorId": "d1", "FindingIds": ["a", "b"]}, "rest-json"),
    ("lambda", "Invoke", {"FunctionName": "responder", "InvocationType": "Event"}, "rest-json"),
    ("s3", "PutBucketTagging", {"Bucket": "evidence", "Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
     "rest-xml"),
    ("s3", "ListObjectsV2", {"Bucket": "evidence", "Prefix": "a/"}, "rest-xml"),
    ("s3", "GetObject", {"Bucket": "evidence", "Key": "dir/file name.txt"}, "rest-xml"),
    ("s3", "CopyObject", {"Bucket": "evidence", "Key": "copy", "CopySource": "src/key"}, "rest-xml"),
]


@pytest.mark.parametrize(("service", "operation", "params", "protocol"), CASES,
                         ids=[f"{case[0]}.{case[1]}" for case in CASES])
def test_decoded_parameters_are_the_boto3_parameters(service: str, operation: str, params: dict[str, Any],
                                                      protocol: str) -> None:
    call = identify(wire(service, operation, **params), default_region="eu-west-1")

    assert (call.service, call.operation, call.protocol) == (service, operation, protocol)
    assert call.caller == ACCESS_KEY
    assert call.region == "us-east-1"
    for name, value in params.items():
        assert call.params[name] == value, name


def test_put_object_is_told_from_copy_object_on_the_same_path() -> None:
    put = identify(wire("s3", "PutObject", Bucket="b", Key="k", Body=b"data"), default_region="us-east-1")
    copy = identify(wire("s3", "CopyObject", Bucket="b", Key="k", CopySource="b/src"), default_region="us-east-1")

    assert put.operation == "PutObject"
    assert copy.operation == "CopyObject"
    assert "Body" not in put.params  # payloads are not journaled


def test_file_like_s3_body_still_decodes() -> None:
    call = identify(wire("s3", "PutObject", Bucket="b", Key="k", Body=io.BytesIO(b"x" * 10)),
                    default_region="us-east-1")
    assert (call.operation, call.params["Bucket"], call.params["Key"]) == ("PutObject", "b", "k")


def test_region_comes_from_the_credential_scope() -> None:
    call = identify(wire("ec2", "DescribeVpcs", region="eu-central-1"), default_region="us-east-1")
    assert call.region == "eu-central-1"


def test_unsigned_request_falls_back_to_the_gateway_region_and_no_caller() -> None:
    request = WireRequest("POST", "/", "", {"x-amz-target": "AmazonSQS.ListQueues",
                                            "content-type": "application/x-amz-json-1.0"}, b"{}")
    call = identify(request, default_region="ap-south-1")
    assert (call.service, call.operation, call.caller, call.region) == ("sqs", "ListQueues", "", "ap-south-1")


def test_presigned_url_credentials_are_read_from_the_query() -> None:
    query = ("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAPRESIGNED0000001%2F20240101%2Fus-west-2%2Fs3"
             "%2Faws4_request&X-Amz-Signature=abc")
    assert credential_scope(WireRequest("GET", "/b/k", query, {})) == ("AKIAPRESIGNED0000001", "us-west-2", "s3")


def test_gzip_compressed_query_body_is_decoded() -> None:
    plain = wire("iam", "DeleteLoginProfile", UserName="alice")
    request = WireRequest(plain.method, plain.path, plain.query, {**plain.headers, "content-encoding": "gzip"},
                          gzip.compress(plain.body))
    assert identify(request, default_region="us-east-1").params == {"UserName": "alice"}


def test_undecodable_body_is_kept_as_a_reason_not_an_exception() -> None:
    plain = wire("sqs", "ListQueues")
    call = identify(WireRequest(plain.method, plain.path, plain.query, plain.headers, b"{not json"),
                    default_region="us-east-1")
    assert call.operation == "ListQueues"
    assert "__decode_error__" in call.params


def test_moto_control_calls_are_their_own_service() -> None:
    call = identify(WireRequest("POST", "/moto-api/reset", "", {}), default_region="us-east-1")
    assert (call.service, call.operation) == ("moto", "reset")


@pytest.mark.parametrize(("operation", "params", "mutating"), [
    ("DescribeInstances", {}, False),
    ("ListFindings", {}, False),
    ("GetFindings", {}, False),
    ("LookupEvents", {}, False),
    ("HeadObject", {}, False),
    ("ReceiveMessage", {}, False),
    ("ModifyInstanceAttribute", {}, True),
    ("Publish", {}, True),
    ("ArchiveFindings", {}, True),
    ("CreateSnapshot", {"DryRun": True}, False),
    ("CreateSnapshot", {"DryRun": False}, True),
    ("", {}, False),
])
def test_mutating_rule(operation: str, params: dict[str, Any], mutating: bool) -> None:
    assert is_mutating(operation, params) is mutating


ids = st.lists(st.from_regex(r"i-[0-9a-f]{17}", fullmatch=True), min_size=0, max_size=6)
filter_values = st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                                 min_size=1, max_size=12), min_size=1, max_size=3)


@settings(max_examples=40, derandomize=True, deadline=None)
@given(instance_ids=ids, filters=st.lists(st.fixed_dictionaries({"Name": st.sampled_from(["tag:a", "vpc-id"]),
                                                                  "Values": filter_values}), max_size=3))
def test_ec2_lists_and_structures_round_trip(instance_ids: list[str], filters: list[dict[str, Any]]) -> None:
    params: dict[str, Any] = {"Filters": filters}
    if instance_ids:
        params["InstanceIds"] = instance_ids
    call = identify(wire("ec2", "DescribeInstances", **params), default_region="us-east-1")
    assert call.params.get("InstanceIds", []) == instance_ids
    assert call.params.get("Filters", []) == filters


@settings(max_examples=30, derandomize=True, deadline=None)
@given(attributes=st.dictionaries(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,10}", fullmatch=True),
                                  st.from_regex(r"[0-9]{1,6}", fullmatch=True), max_size=4))
def test_query_maps_round_trip(attributes: dict[str, str]) -> None:
    message_attributes = {name: {"DataType": "Number", "StringValue": value} for name, value in attributes.items()}
    params: dict[str, Any] = {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": "m"}
    if message_attributes:
        params["MessageAttributes"] = message_attributes
    call = identify(wire("sns", "Publish", **params), default_region="us-east-1")
    assert call.params.get("MessageAttributes", {}) == message_attributes
