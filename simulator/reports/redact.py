"""Secrets never reach a report: request parameters, logs and details are redacted before they are printed.

Two nets: by name (a parameter called ``SecretAccessKey``, ``Password``, ``Authorization``...) and by shape in
free text (``aws_secret_access_key=...``, a SigV4 ``Signature=``, a bearer token, a 40-character secret key or a
long opaque token). Access key ids (``AKIA...``) stay: they name a caller and grant nothing on their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"

# Parameter names (lower case, without '-' and '_') whose value is a secret wherever they appear.
_SECRET_NAME_PARTS = (
    "password", "passwd", "passphrase", "secretaccesskey", "secretkey", "sessiontoken", "securitytoken",
    "authorization", "secretstring", "secretbinary", "privatekey", "clientsecret", "apikey", "accesstoken",
    "refreshtoken", "idtoken", "keymaterial", "sharedsecret", "presharedkey", "authtoken",
)
_SECRET_NAMES = frozenset({"secret", "token", "credentials", "cookie", "xamzsecuritytoken"})
# ...unless the name only describes one: PasswordLastUsed, SecretId, TokenIssueTime, MinimumPasswordLength.
_DESCRIBING_ENDINGS = ("lastused", "required", "policy", "length", "age", "reuseprevention", "expiration", "type",
                       "id", "ids", "arn", "name", "date", "time", "status", "count", "enabled")
_NOT_SECRETS = frozenset({"true", "false", "none", "null", "yes", "no", REDACTED})

_NAMED_IN_TEXT = re.compile(
    r"(?i)\b((?:aws_)?secret_?access_?key|aws_session_token|session_?token|security_?token|x-amz-security-token"
    r"|secret_?key|client_?secret|api_?key|password|passwd|pwd)"
    r"(\"?'?\s*[:=]\s*\"?'?)"
    r"([^\s\"',;}&]+)"
)
_AUTHORIZATION = re.compile(r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?)([^\"'\r\n]+)")
_SIGNATURE = re.compile(r"(?i)\b(signature=|x-amz-signature=)([0-9a-f]{16,})")
_BEARER = re.compile(r"(?i)\b(bearer\s+)([A-Za-z0-9._~+/-]{8,}=*)")
# An AWS secret access key: 40 characters of base64 with upper case, lower case and digits (a hex digest,
# a finding id or a resource name does not look like that).
_SECRET_KEY_SHAPE = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
# Session tokens and other long opaque credentials: 100+ characters of base64.
_LONG_TOKEN_SHAPE = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{100,}={0,2}(?![A-Za-z0-9/+=])")


def _normalised(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "").replace(" ", "")


def is_secret_name(name: str) -> bool:
    """Whether a parameter, header or field called ``name`` holds a secret."""
    key = _normalised(name)
    if key.endswith(_DESCRIBING_ENDINGS):
        return False
    return key in _SECRET_NAMES or any(part in key for part in _SECRET_NAME_PARTS)


def _looks_random(text: str) -> bool:
    return any(c.isupper() for c in text) and any(c.islower() for c in text) and any(c.isdigit() for c in text)


def _shape(match: re.Match[str]) -> str:
    return REDACTED if _looks_random(match.group(0)) else match.group(0)


def _named(match: re.Match[str]) -> str:
    # "console_password: true" says whether a password exists; it reveals none.
    if match.group(3).lower() in _NOT_SECRETS:
        return match.group(0)
    return match.group(1) + match.group(2) + REDACTED


def redact_text(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with every secret it shows replaced by ``[redacted]``; ``known`` secrets go whatever their shape."""
    if not text:
        return text
    for secret in known:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    text = _AUTHORIZATION.sub(lambda m: m.group(1) + REDACTED, text)
    text = _NAMED_IN_TEXT.sub(_named, text)
    text = _SIGNATURE.sub(lambda m: m.group(1) + REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _LONG_TOKEN_SHAPE.sub(_shape, text)
    return _SECRET_KEY_SHAPE.sub(_shape, text)


def _is_secure_parameter(mapping: Mapping[Any, Any]) -> bool:
    # SSM PutParameter {"Type": "SecureString", "Value": ...}: the value is a secret by declaration.
    return str(mapping.get("Type", "")).lower() == "securestring"


def _holds_value(item: Any) -> bool:
    # {"console_password": true} says whether there is one; None and "" hold nothing to hide.
    return item is not None and item != "" and not isinstance(item, bool)


def redact_value(value: Any, known: Iterable[str] = ()) -> Any:
    """A copy of ``value`` (JSON-like data) with secrets redacted, by name at any depth and by shape in text."""
    known = tuple(known)
    if isinstance(value, Mapping):
        secure = _is_secure_parameter(value)
        redacted: dict[Any, Any] = {}
        for key, item in value.items():
            if (isinstance(key, str) and is_secret_name(key) and _holds_value(item)) or (secure and key == "Value"):
                redacted[key] = REDACTED
            else:
                redacted[key] = redact_value(item, known)
        return redacted
    if isinstance(value, list | tuple):
        return [redact_value(item, known) for item in value]
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        return redact_text(value, known)
    return value
