"""Integration fixtures: a real moto server process per test module, warmed before the first test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulator.gateway import Gateway, Journal
from simulator.targets.base import Sandbox
from simulator.targets.moto import MotoTarget


@pytest.fixture(scope="module")
def moto() -> Iterator[tuple[MotoTarget, Sandbox]]:
    """The module's emulator and its sandbox (the target routes Step Functions' own calls, for instance)."""
    target = MotoTarget()
    try:
        started = target.start()
        target.warm()
        yield target, started
    finally:
        target.stop()


@pytest.fixture(scope="module")
def sandbox(moto: tuple[MotoTarget, Sandbox]) -> Sandbox:
    return moto[1]


@pytest.fixture(scope="module")
def gateway(sandbox: Sandbox) -> Iterator[Gateway]:
    """A journaling gateway in front of the module's sandbox (no caller labelled, no faults)."""
    with Gateway(sandbox.endpoint_url or "", Journal(), region=sandbox.region,
                 account_id=sandbox.account_id) as gateway:
        yield gateway
