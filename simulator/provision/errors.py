"""Provisioning errors: each says what failed and what became of what was already built."""

from __future__ import annotations

from simulator.errors import SandboxError


class ProvisionError(SandboxError):
    """Building the environment failed; what was built has been deleted (or is listed as left behind)."""
