"""What every target provides: a running sandbox endpoint with credentials, and a clean stop."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
from botocore.config import Config

# Every session's loader reads the same botocore model files; they share what was read, since reading the EC2
# model alone costs 0.1-0.3 s and a run builds sessions in several places (entries are never modified).
_MODEL_CACHE: dict[tuple[Any, ...], Any] = {}
# Emulator calls are local: fail fast instead of botocore's default minute of retries.
_EMULATOR_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30)


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def as_env(self) -> dict[str, str]:
        env = {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env


@dataclass
class Sandbox:
    """A reachable AWS API: ``endpoint_url`` is None for real AWS."""

    name: str
    endpoint_url: str | None
    region: str
    account_id: str
    credentials: Credentials
    extras: dict[str, Any] = field(default_factory=dict)
    # Creating a boto3 client costs 50-200 ms (model loading); clients are thread-safe, so keep one each.
    _clients: dict[tuple[str, str | None, Credentials], Any] = field(default_factory=dict, repr=False)
    _clients_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def session(self, credentials: Credentials | None = None) -> boto3.session.Session:
        creds = credentials or self.credentials
        session = boto3.session.Session(
            aws_access_key_id=creds.access_key_id,
            aws_secret_access_key=creds.secret_access_key,
            aws_session_token=creds.session_token,
            region_name=self.region,
        )
        session._session.get_component("data_loader")._cache = _MODEL_CACHE
        return session

    def prepare_clients(self, services: tuple[str, ...]) -> threading.Thread:
        """Build the harness's clients for ``services`` on a background thread (reading their models is CPU
        work the caller can overlap with waiting, e.g. for the emulator to load); returns the thread."""
        def build() -> None:
            for service in services:
                try:
                    self.client(service)
                except Exception:  # built again, and any error surfaced, when first used
                    return

        thread = threading.Thread(target=build, name="prepare-clients", daemon=True)
        thread.start()
        return thread

    def client(self, service: str, *, endpoint_url: str | None = None,
               credentials: Credentials | None = None) -> Any:
        """A cached boto3 client for the sandbox (or for ``endpoint_url``, e.g. the gateway in front of it)."""
        creds = credentials or self.credentials
        url = endpoint_url or self.endpoint_url
        key = (service, url, creds)
        with self._clients_lock:
            if key not in self._clients:
                self._clients[key] = self.session(creds).client(service, endpoint_url=url, config=_EMULATOR_CONFIG)
            return self._clients[key]


class Target(Protocol):
    """Lifecycle of a sandbox: ``start`` gives it, ``stop`` always releases it (idempotent)."""

    name: str

    def start(self) -> Sandbox: ...

    def stop(self) -> None: ...
