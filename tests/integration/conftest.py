"""Integration fixtures: a real moto server process per test module, warmed before the first test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulator.targets.base import Sandbox
from simulator.targets.moto import MotoTarget


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    target = MotoTarget()
    try:
        started = target.start()
        target.warm()
        yield started
    finally:
        target.stop()
