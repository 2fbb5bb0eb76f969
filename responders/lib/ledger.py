"""Remembering what was done for a finding that names no resource of ours to tag (the root user).

Each record is an SSM parameter created only if absent, so the first delivery to claim a step wins and
a repeat (or a concurrent duplicate) learns it was done. Like a tag, a record says only that the step
was done (its value is a message id or "done").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from responders.lib.idempotency import HANDLED, NOTIFIED, PAGED
from responders.lib.instance import error_code

PREFIX = "/gdsim/findings"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def record_name(finding_id: str, step: str) -> str:
    return f"{PREFIX}/{_UNSAFE.sub('_', finding_id)}/{_UNSAFE.sub('_', step)}"


def recorded(ssm: Any, finding_id: str, step: str) -> bool:
    try:
        ssm.get_parameter(Name=record_name(finding_id, step))
    except ClientError as exc:
        if error_code(exc) == "ParameterNotFound":
            return False
        raise
    return True


def record(ssm: Any, finding_id: str, step: str, value: str = "done") -> bool:
    """Record ``step`` for the finding; False when it was already recorded (by this or another delivery)."""
    try:
        ssm.put_parameter(Name=record_name(finding_id, step), Value=value[:4096] or "done", Type="String",
                          Overwrite=False, Description=f"gdsim responder: {step} done for finding {finding_id}"[:1024])
    except ClientError as exc:
        if error_code(exc) == "ParameterAlreadyExists":
            return False
        raise
    return True


class LedgerMemory:
    """A runbook's memory (responders.lib.idempotency.Memory) as SSM parameters, one per step and finding."""

    detailed = False
    strict = True
    NAMES = {HANDLED: "handled", NOTIFIED: "notified", PAGED: "paged"}

    def __init__(self, ssm: Any, finding_id: str) -> None:
        self.ssm = ssm
        self.finding_id = finding_id

    def marker(self, step: str) -> dict[str, Any] | None:
        return {} if recorded(self.ssm, self.finding_id, self.NAMES[step]) else None

    def mark(self, step: str, details: Mapping[str, Any] | None = None) -> None:
        record(self.ssm, self.finding_id, self.NAMES[step], str((details or {}).get("message_id") or "done"))
