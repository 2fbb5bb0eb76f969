"""boto3 clients for responders: created on first use (never at import), cached for warm invocations.

They honour AWS_ENDPOINT_URL (the harness's gateway, or LocalStack) and AWS_DEFAULT_REGION, and
retry throttling through responders.lib.retry rather than botocore, so that one visible policy with
runbook-time waits applies. boto3 is imported with the module, and ``preload`` parses service models
ahead of time, so a cold start pays for both during init, as a Lambda function's module scope would.
"""

from __future__ import annotations

import os
import threading

import boto3
import botocore.session
from botocore.config import Config

from responders.lib.retry import RetryingClient

_CONFIG = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=20)
_clients: dict[tuple[str, str | None, str | None], RetryingClient] = {}
_lock = threading.Lock()
_session: boto3.session.Session | None = None


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _shared_session() -> boto3.session.Session:
    # One session for every client: building one costs ~0.2 s of model loading per service.
    global _session
    if _session is None:
        _session = boto3.session.Session(botocore_session=botocore.session.get_session())
    return _session


def preload(*services: str) -> None:
    """Parse the services' API models now (~0.15 s for EC2, SNS and IAM), so their first clients
    build in milliseconds. No client, endpoint or credentials are bound: configuration is still read
    when a client is first asked for."""
    with _lock:
        core = _shared_session()._session
        loader = core.get_component("data_loader")
        for service in services:
            core.get_service_model(service)
            loader.load_service_model(service, "endpoint-rule-set-1")


def client(service: str) -> RetryingClient:
    """A shared client for ``service`` in the current region and endpoint."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    key = (service, endpoint, region())
    with _lock:
        cached = _clients.get(key)
        if cached is None:
            cached = RetryingClient(_shared_session().client(
                service, region_name=region(), endpoint_url=endpoint, config=_CONFIG))
            _clients[key] = cached
    return cached


def reset() -> None:
    """Forget cached clients and models (after the environment changed)."""
    global _session
    with _lock:
        _clients.clear()
        _session = None
