"""Retrying throttled and transient AWS calls with capped exponential backoff and full jitter.

The waits are runbook time: GDSIM_TIME_SCALE divides them, like every other wait a responder makes.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

T = TypeVar("T")

RETRYABLE_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled", "RequestThrottledException",
    "RequestLimitExceeded", "TooManyRequestsException", "SlowDown", "ProvisionedThroughputExceededException",
    "RequestLimitExceededException", "BandwidthLimitExceeded", "PriorRequestNotComplete",
    "ServiceUnavailable", "ServiceUnavailableException", "InternalError", "InternalFailure",
    "InternalServerError", "RequestTimeout", "RequestTimeoutException",
})
_TRANSIENT_ERRORS = (ConnectionClosedError, EndpointConnectionError, ReadTimeoutError)
_random = random.Random()


def time_scale() -> float:
    try:
        scale = float(os.environ.get("GDSIM_TIME_SCALE", "1"))
    except ValueError:
        return 1.0
    return scale if scale > 0 else 1.0


def runbook_sleep(seconds: float) -> None:
    """Sleep ``seconds`` of runbook time."""
    time.sleep(seconds / time_scale())


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, _TRANSIENT_ERRORS):
        return True
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in RETRYABLE_CODES or status in (429, 500, 502, 503, 504)
    return False


def call_with_retry(call: Callable[..., T], *args: Any, attempts: int = 6, base_delay: float = 0.1,
                    max_delay: float = 5.0, **kwargs: Any) -> T:
    """``call(*args, **kwargs)``, retried on throttling and transient faults; other errors pass through."""
    return call_once(call, _not_known, *args, attempts=attempts, base_delay=base_delay, max_delay=max_delay,
                     **kwargs)


def _not_known() -> None:
    """For a call that is safe to repeat: whether a failed attempt took effect does not matter."""
    return None


def call_once(call: Callable[..., T], already_done: Callable[[], T | None], *args: Any, attempts: int = 6,
              base_delay: float = 0.1, max_delay: float = 5.0, **kwargs: Any) -> T:
    """Like call_with_retry, for creates that take no idempotency token (CreateSnapshot, Publish...):
    before each retry ``already_done()`` says whether the failed attempt took effect after all (a
    dropped connection can lose the answer, not the action); its result is returned instead."""
    for attempt in range(1, attempts + 1):
        try:
            return call(*args, **kwargs)
        except Exception as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            runbook_sleep(_random.uniform(0, min(max_delay, base_delay * 2 ** (attempt - 1))))
            done = already_done()
            if done is not None:
                return done
    raise AssertionError("unreachable")


class RetryingClient:
    """A boto3 client whose API methods retry through ``call_with_retry``."""

    def __init__(self, client: Any) -> None:
        self._client = client

    @property
    def raw(self) -> Any:
        return self._client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name.startswith("_") or name in ("meta", "exceptions", "get_paginator", "get_waiter") \
                or not callable(attribute):
            return attribute

        def retrying(*args: Any, **kwargs: Any) -> Any:
            return call_with_retry(attribute, *args, **kwargs)

        retrying.__name__ = name
        return retrying
