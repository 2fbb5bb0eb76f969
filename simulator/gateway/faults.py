"""What a fault hook sees (:class:`RequestInfo`) and what it may ask the gateway to do (:class:`Fault`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.gateway.wire_errors import error_response, throttling_error


@dataclass(frozen=True)
class RequestInfo:
    """A call about to be forwarded; ``headers`` keys are lower case."""

    service: str
    operation: str
    region: str
    caller: str
    protocol: str
    params: Mapping[str, Any]
    resource_ids: tuple[str, ...]
    mutating: bool
    method: str
    path: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Fault:
    """A fault to inject. ``delay`` seconds are waited first; then the call is dropped (``reset``),
    answered with the canned ``status``/``headers``/``body``, or forwarded as usual (``status`` None)."""

    name: str
    delay: float = 0.0
    reset: bool = False
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def latency(cls, name: str, seconds: float) -> Fault:
        return cls(name, delay=seconds)

    @classmethod
    def connection_reset(cls, name: str = "reset") -> Fault:
        return cls(name, reset=True)

    @classmethod
    def respond(cls, name: str, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> Fault:
        return cls(name, status=status, body=body, headers=dict(headers or {}))

    @classmethod
    def error(cls, name: str, info: RequestInfo, code: str, message: str, status: int) -> Fault:
        """An AWS error in the wire shape of the call's protocol."""
        status, headers, body = error_response(info.protocol, code, message, status)
        return cls.respond(name, status, body, headers)

    @classmethod
    def throttle(cls, info: RequestInfo, name: str = "throttle") -> Fault:
        """The throttling error the called service really answers with (EC2: RequestLimitExceeded)."""
        code, status = throttling_error(info.service, info.protocol)
        return cls.error(name, info, code, "Rate exceeded", status)


FaultHook = Callable[[RequestInfo], Fault | None]
