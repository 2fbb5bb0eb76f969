"""APIs the gateway answers itself instead of forwarding: what a local handler receives and returns."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.gateway.protocols import CallInfo, WireRequest
from simulator.gateway.wire_errors import error_response


@dataclass(frozen=True)
class LocalResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class ApiError(Exception):
    """An AWS error a local API answers with (``code`` is what boto3 reports as Error.Code)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def response(self, protocol: str) -> LocalResponse:
        status, headers, body = error_response(protocol, self.code, self.message, self.status)
        return LocalResponse(status, headers, body)


def json_response(document: Any, *, protocol: str = "rest-json", status: int = 200) -> LocalResponse:
    content_type = "application/x-amz-json-1.1" if protocol == "json" else "application/json"
    headers = {"Content-Type": content_type, "x-amzn-RequestId": str(uuid.uuid4())}
    return LocalResponse(status, headers, json.dumps(document, default=str).encode())


# A local handler answers a call, or returns None to let the gateway forward it to the sandbox.
LocalHandler = Callable[[CallInfo, WireRequest], LocalResponse | None]
