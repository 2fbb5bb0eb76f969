"""Secrets are redacted wherever a report prints parameters, logs or details; ids and names are left alone."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.reports.redact import REDACTED, is_secret_name, redact_text, redact_value

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEBYaDH" + "Ab3Cd4Ef5Gh6Ij7Kl8Mn9Op0Qr1St2Uv3Wx4Yz5" * 4


def test_secret_parameters_are_redacted_at_any_depth() -> None:
    params = {
        "UserName": "alice", "Password": "hunter2-Hunter2",
        "Credentials": {"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": SECRET_KEY,
                        "SessionToken": TOKEN},
        "Environment": {"Variables": {"DB_PASSWORD": "pw-123456", "REGION": "us-east-1"}},
        "Headers": [{"Authorization": "AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=abcdef"}],
    }
    redacted = redact_value(params)
    text = json.dumps(redacted)
    for secret in ("hunter2-Hunter2", SECRET_KEY, TOKEN, "pw-123456", "Signature=abcdef"):
        assert secret not in text
    assert redacted["UserName"] == "alice"
    assert redacted["Environment"]["Variables"]["REGION"] == "us-east-1"
    assert redacted["Password"] == REDACTED


def test_secure_string_parameter_values_are_redacted() -> None:
    assert redact_value({"Name": "/db/pw", "Type": "SecureString", "Value": "s3cr3t"})["Value"] == REDACTED
    assert redact_value({"Name": "/db/host", "Type": "String", "Value": "db.internal"})["Value"] == "db.internal"


def test_secrets_in_free_text_are_redacted() -> None:
    log = (f"aws_secret_access_key={SECRET_KEY}\n"
           f'{{"SecretAccessKey": "{SECRET_KEY}", "SessionToken": "{TOKEN}"}}\n'
           "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/ec2/aws4_request, "
           "SignedHeaders=host, Signature=0123456789abcdef0123456789abcdef\n"
           "password: hunter2x\nheaders: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig\n"
           f"key in passing {SECRET_KEY} here\n")
    redacted = redact_text(log)
    for secret in (SECRET_KEY, TOKEN, "0123456789abcdef0123456789abcdef", "hunter2x", "eyJhbGciOiJIUzI1NiJ9"):
        assert secret not in redacted
    assert redacted.count(REDACTED) >= 6


def test_ids_names_and_flags_are_not_redacted() -> None:
    text = ("i-0abc123def4567890 finding a1b2c3d4e5f60718293a4b5c6d7e8f90 key AKIAIOSFODNN7EXAMPLE "
            "arn:aws:iam::123456789012:role/gdsim-20240101T000000-abcd-web-role "
            "commit 3f786850e387550fdab836ed7e6dc881de23001b console_password: true "
            "the console password was removed")
    assert redact_text(text) == text
    assert redact_value({"console_password": True, "PasswordResetRequired": False}) == {
        "console_password": True, "PasswordResetRequired": False}


def test_known_secrets_go_whatever_their_shape() -> None:
    assert redact_text("connect with pin 4821-aa", known=["4821-aa"]) == f"connect with pin {REDACTED}"


def test_bytes_are_summarised_not_printed() -> None:
    assert redact_value({"UserData": b"#!/bin/sh\necho hi"}) == {"UserData": "<17 bytes>"}


def test_secret_names() -> None:
    for name in ("SecretAccessKey", "aws_session_token", "X-Amz-Security-Token", "Authorization", "NewPassword",
                 "client_secret", "PrivateKey", "SecretString", "token"):
        assert is_secret_name(name), name
    for name in ("SecretId", "UserName", "AccessKeyId", "KeyName", "TokenIssueTime", "PasswordLastUsed",
                 "MinimumPasswordLength", "SecretArn"):
        assert not is_secret_name(name), name


_SECRET_NAMES = st.sampled_from(["Password", "SecretAccessKey", "SessionToken", "Authorization", "api_key",
                                 "ClientSecret", "DB_PASSWORD", "x-amz-security-token"])
_VALUES = st.text(alphabet=st.characters(min_codepoint=48, max_codepoint=122), min_size=6, max_size=60)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(name=_SECRET_NAMES, value=_VALUES, depth=st.integers(min_value=0, max_value=3))
def test_a_secret_named_parameter_never_survives(name: str, value: str, depth: int) -> None:
    data: dict = {name: value, "Other": "visible"}
    for _ in range(depth):
        data = {"Nested": [data]}
    inner = redact_value(data)
    for _ in range(depth):
        inner = inner["Nested"][0]
    assert inner == {name: REDACTED, "Other": "visible"}
