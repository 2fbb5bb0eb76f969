"""AWS error responses in each protocol's wire shape, and reading the error code back out of one."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from xml.sax.saxutils import escape

_XML_CODE = re.compile(rb"<Code>\s*([^<\s]+)\s*</Code>")

# The throttling error each kind of API answers with (code, HTTP status).
_THROTTLING = {
    "ec2": ("RequestLimitExceeded", 503),
    "s3": ("SlowDown", 503),
    "sqs": ("RequestThrottled", 403),
    "lambda": ("TooManyRequestsException", 429),
}
_THROTTLING_BY_PROTOCOL = {
    "query": ("Throttling", 400),
    "rest-xml": ("SlowDown", 503),
}
_DEFAULT_THROTTLING = ("ThrottlingException", 400)


def throttling_error(service: str, protocol: str) -> tuple[str, int]:
    """The (code, status) a throttled call to ``service`` gets on AWS, so SDK retry logic sees it as such."""
    return _THROTTLING.get(service) or _THROTTLING_BY_PROTOCOL.get(protocol) or _DEFAULT_THROTTLING


def error_response(protocol: str, code: str, message: str, status: int = 400, *,
                   request_id: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of an AWS error as ``protocol`` encodes it; botocore parses it to ``code``."""
    request_id = request_id or str(uuid.uuid4())
    if protocol == "ec2":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
        return status, {"Content-Type": "text/xml;charset=UTF-8", "x-amzn-RequestId": request_id}, body.encode()
    if protocol == "query":
        fault = "Sender" if status < 500 else "Receiver"
        body = (
            f'<ErrorResponse><Error><Type>{fault}</Type><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body.encode()
    if protocol == "rest-xml":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        )
        return status, {"Content-Type": "application/xml", "x-amz-request-id": request_id}, body.encode()
    content_type = "application/x-amz-json-1.1" if protocol == "json" else "application/json"
    headers = {
        "Content-Type": content_type,
        "x-amzn-RequestId": request_id,
        "x-amzn-ErrorType": code,
        # JSON services that were query services (SQS) map codes through this header.
        "x-amzn-query-error": f"{code};{'Sender' if status < 500 else 'Receiver'}",
    }
    return status, headers, json.dumps({"__type": code, "message": message}).encode()


def error_code(status: int, headers: Mapping[str, str], body: bytes) -> str | None:
    """The error code an SDK would report for this response, or None for a success or an unreadable error.

    ``headers`` keys are lower case.
    """
    if status < 300:
        return None
    query_error = headers.get("x-amzn-query-error")
    if query_error:
        return query_error.split(";", 1)[0]
    error_type = headers.get("x-amzn-errortype")
    if error_type:
        return _short(error_type.split(":", 1)[0])
    text = body.lstrip()
    if not text:
        return str(status)  # as botocore reports a bodiless error (HEAD): "404"
    if text.startswith(b"{"):
        try:
            document = json.loads(text)
        except ValueError:
            return None
        if isinstance(document, dict):
            code = document.get("__type") or document.get("code") or document.get("Code")
            return _short(str(code)) if code else None
        return None
    found = _XML_CODE.search(text)
    return found.group(1).decode("utf-8", "replace") if found else None


def _short(code: str) -> str:
    return code.rsplit("#", 1)[-1]
