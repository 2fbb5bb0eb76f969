"""boto3 clients for building and inspecting a sandbox, from one cached session per sandbox identity.

Building a boto3 session costs far more than the calls provisioning makes, so it is built once.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from simulator.targets.base import Sandbox

# An emulator answers at once or is broken; a real account throttles and needs patience.
_EMULATOR = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30)
_AWS = Config(retries={"max_attempts": 8, "mode": "adaptive"}, connect_timeout=10, read_timeout=60)

_lock = threading.Lock()
_sessions: dict[tuple[str | None, str, str], boto3.session.Session] = {}
_clients: dict[tuple[str | None, str, str, str], Any] = {}


def client(sandbox: Sandbox, service: str) -> Any:
    """A cached client for ``service`` with the sandbox's own credentials."""
    identity = (sandbox.endpoint_url, sandbox.region, sandbox.credentials.access_key_id)
    with _lock:
        found = _clients.get((*identity, service))
        if found is None:
            session = _sessions.get(identity)
            if session is None:
                session = _sessions[identity] = sandbox.session()
            config = _AWS if sandbox.endpoint_url is None else _EMULATOR
            found = _clients[(*identity, service)] = session.client(
                service, endpoint_url=sandbox.endpoint_url, config=config)
        return found


def is_emulator(sandbox: Sandbox) -> bool:
    return sandbox.endpoint_url is not None
