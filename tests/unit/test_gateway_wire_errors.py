"""Error responses the gateway makes are read by botocore's own parsers as the intended error code."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.parsers import create_parser

from simulator.gateway.wire_errors import error_code, error_response, throttling_error

SESSION = botocore.session.get_session()


@pytest.mark.parametrize(("service", "operation", "protocol"), [
    ("ec2", "DescribeInstances", "ec2"),
    ("iam", "ListUsers", "query"),
    ("sns", "Publish", "query"),
    ("sqs", "SendMessage", "json"),
    ("cloudtrail", "LookupEvents", "json"),
    ("guardduty", "GetFindings", "rest-json"),
    ("lambda", "Invoke", "rest-json"),
    ("s3", "GetObject", "rest-xml"),
])
def test_botocore_parses_the_throttling_error_of_each_protocol(service: str, operation: str, protocol: str) -> None:
    model = SESSION.get_service_model(service)
    code, status = throttling_error(service, protocol)
    status, headers, body = error_response(protocol, code, "Rate exceeded", status)
    parsed = create_parser(model.protocol).parse(
        {"status_code": status, "headers": headers, "body": body}, model.operation_model(operation).output_shape)

    assert parsed["Error"]["Code"] == code
    assert parsed["Error"]["Message"] == "Rate exceeded"
    assert error_code(status, {key.lower(): value for key, value in headers.items()}, body) == code


def test_the_usual_throttling_codes() -> None:
    assert throttling_error("ec2", "ec2") == ("RequestLimitExceeded", 503)
    assert throttling_error("iam", "query") == ("Throttling", 400)
    assert throttling_error("stepfunctions", "json") == ("ThrottlingException", 400)
    assert throttling_error("s3", "rest-xml") == ("SlowDown", 503)


def test_message_text_is_escaped_in_xml() -> None:
    _, _, body = error_response("ec2", "Bad", "a < b & c", 400)
    assert b"a &lt; b &amp; c" in body


@pytest.mark.parametrize(("status", "headers", "body", "expected"), [
    (200, {}, b"<Code>Nope</Code>", None),
    (400, {}, b"<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code></Error></Errors></Response>",
     "InvalidInstanceID.NotFound"),
    (400, {}, b'{"__type": "com.amazonaws.sfn#ExecutionDoesNotExist", "message": "x"}', "ExecutionDoesNotExist"),
    (400, {"x-amzn-errortype": "ResourceNotFoundException:http://internal/"}, b"{}", "ResourceNotFoundException"),
    (400, {"x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender"}, b"{}",
     "AWS.SimpleQueueService.NonExistentQueue"),
    (404, {}, b"", "404"),
    (500, {}, b"{broken", None),
    (500, {}, json.dumps([1]).encode(), None),
])
def test_error_codes_are_read_as_botocore_reports_them(status: int, headers: dict[str, str], body: bytes,
                                                       expected: str | None) -> None:
    assert error_code(status, headers, body) == expected
