"""Shared test set-up: slow tests run only in the `slow` tox environment (GDSIM_SLOW=1)."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("GDSIM_SLOW"):
        return
    skip_slow = pytest.mark.skip(reason="slow: run with `tox -e slow`")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)
