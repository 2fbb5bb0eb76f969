"""What every observer is: one expectation kind, polled against the sandbox, tied to the calls that cause it.

An observer is built from a step's parameters (logical resource names), the provisioned environment and
the injected finding. ``prepare`` runs before injection (e.g. to subscribe a queue to a topic), ``check``
is one poll of the sandbox with the harness's own clients, and ``is_causing`` tells which journal entries
would make the expectation hold, so the observation loop can date the effect by the gateway's clock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from simulator.errors import InputError
from simulator.targets.base import Sandbox

FINDING_TAG = "gdsim:finding-id"


def finding_id_of(finding: Mapping[str, Any]) -> str | None:
    """The finding's id in either wire form (EventBridge detail ``id`` or API ``Id``)."""
    value = finding.get("id", finding.get("Id"))
    return value if isinstance(value, str) and value else None


def flatten_strings(value: Any) -> Iterator[str]:
    """Every string inside a decoded request (nested dicts and lists included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from flatten_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from flatten_strings(item)


def entry_succeeded(entry: Any) -> bool:
    """A journal entry whose call really ran and succeeded (no error, no injected fault)."""
    return 200 <= entry.status < 400 and not entry.error_code and not entry.fault


class Observer:
    """Base class; subclasses set ``kind`` and ``causing_operations`` and implement ``check``."""

    kind: ClassVar[str] = ""
    causing_operations: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, params: Mapping[str, str], env: Any, finding: Mapping[str, Any]) -> None:
        self.params = dict(params)
        self.env = env
        self.finding = finding
        self.finding_id = finding_id_of(finding)
        # Ids a causing journal entry must name; observers add to it as they learn (ENIs, snapshots).
        self.resource_ids: set[str] = set()
        # Why the expectation does not hold (or a remark on how it held), for the report.
        self.detail: str | None = None
        # Wall-clock time of injection; the observation loop sets it, prepare() gives a lower bound.
        self.injected_wall: float | None = None
        # The gateway journal, shared by the observation loop: some effects leave no state to poll.
        self.journal: Any = None

    @classmethod
    def defaults_from(cls, scenario: Any) -> dict[str, str]:
        """Parameters a step may leave out because the scenario says them elsewhere."""
        return {}

    # -- lifecycle -----------------------------------------------------------------------------------

    def prepare(self, sandbox: Sandbox) -> None:
        """Called once before injection."""
        if self.injected_wall is None:
            self.injected_wall = time.time()

    def check(self, sandbox: Sandbox) -> bool:
        """One poll: does the expectation hold now?"""
        raise NotImplementedError

    def cleanup(self, sandbox: Sandbox) -> None:
        """Remove whatever ``prepare`` created in the sandbox (idempotent)."""

    # -- attribution ---------------------------------------------------------------------------------

    def is_causing(self, entry: Any) -> bool:
        """Whether journal ``entry`` is a successful call that can make this expectation hold."""
        if entry.operation not in self.causing_operations or not entry_succeeded(entry):
            return False
        if not self.resource_ids:
            return True
        named = set(entry.resource_ids)
        named.update(flatten_strings(entry.params))
        return not named.isdisjoint(self.resource_ids)

    # -- helpers for subclasses ----------------------------------------------------------------------

    def resource(self, param: str) -> dict[str, Any]:
        """The descriptor of the resource the step names in ``param``."""
        logical = self.params.get(param)
        if not logical:
            raise InputError(f"expectation {self.kind} needs the parameter '{param}'",
                             field=f"expect.{self.kind}", fix=f"add {param}: <logical name>")
        descriptor = self.env.resources.get(logical)
        if descriptor is None:
            raise InputError(f"expectation {self.kind}: no resource named '{logical}'",
                             field=f"expect.{self.kind}.{param}", fix="name a resource of the environment")
        return descriptor

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"
