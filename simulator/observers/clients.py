"""The harness's own AWS clients for polling, one boto3 session per sandbox identity.

Observers read the sandbox directly (never through the gateway), so their polls stay out of the
journal. A boto3 session costs far more to build than a poll, hence the cache.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from simulator.targets.base import Sandbox

# A failed poll is simply repeated at the next tick, so no retries; a stuck one must not outlive its SLA.
_POLL_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=10)

_lock = threading.Lock()
_sessions: dict[tuple[str | None, str, str], boto3.session.Session] = {}
_clients: dict[tuple[str | None, str, str, str], Any] = {}


def sandbox_client(sandbox: Sandbox, service: str) -> Any:
    """A cached client for ``service`` on ``sandbox`` with the sandbox's own (harness) credentials."""
    identity = (sandbox.endpoint_url, sandbox.region, sandbox.credentials.access_key_id)
    key = (*identity, service)
    with _lock:
        client = _clients.get(key)
        if client is None:
            session = _sessions.get(identity)
            if session is None:
                session = _sessions[identity] = sandbox.session()
            client = _clients[key] = session.client(
                service, endpoint_url=sandbox.endpoint_url, config=_POLL_CONFIG
            )
        return client


def drop_clients(sandbox: Sandbox) -> None:
    """Forget the clients of a sandbox that is going away (a long run builds many sandboxes)."""
    identity = (sandbox.endpoint_url, sandbox.region, sandbox.credentials.access_key_id)
    with _lock:
        _sessions.pop(identity, None)
        for key in [key for key in _clients if key[:3] == identity]:
            del _clients[key]
