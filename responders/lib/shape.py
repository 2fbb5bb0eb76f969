"""A finding fit to act on: every member GuardDuty always sends, of the right kind, its ARN naming it,
its timestamps readable, its severity on GuardDuty's scale, and an event no larger than EventBridge
delivers. A finding that fails any of these was not written by GuardDuty as it arrived, so a responder
refuses it (EventRejected) rather than act on what it claims.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from responders.lib.events import EventRejected, shown

EVENTBRIDGE_LIMIT = 256 * 1024
_TEXT_MEMBERS = ("accountId", "arn", "createdAt", "id", "region", "schemaVersion", "type", "updatedAt")
SEVERITY_SCALE = (1.0, 10.0)


def _timestamp(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value


def check_event_size(event: Any, finding_id: str | None = None) -> None:
    """EventBridge refuses events over 256 KB, so a larger one did not come from a rule (or was altered)."""
    try:
        size = len(json.dumps(event, default=str).encode())
    except (TypeError, ValueError, RecursionError) as exc:
        raise EventRejected(f"event cannot be read as JSON: {type(exc).__name__}", finding_id) from None
    if size > EVENTBRIDGE_LIMIT:
        raise EventRejected(f"event is {size} bytes, over EventBridge's {EVENTBRIDGE_LIMIT}-byte limit",
                            finding_id)


def check_wellformed(finding: dict[str, Any], finding_id: str) -> None:
    """Required members present and typed, ARN naming this finding, timestamps and severity valid."""
    for member in _TEXT_MEMBERS:
        value = finding.get(member)
        if not isinstance(value, str) or not value:
            raise EventRejected(f"detail.{member} {shown(value)} is missing or not text", finding_id)
    for member in ("resource", "service"):
        if not isinstance(finding.get(member), dict):
            raise EventRejected(f"detail.{member} {shown(finding.get(member))} is not an object", finding_id)
    service = finding["service"]
    for member, kind, word in (("count", int, "a whole number"), ("archived", bool, "true or false")):
        value = service.get(member)
        if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            raise EventRejected(f"detail.service.{member} {shown(value)} is not {word}", finding_id)
    severity = finding.get("severity")
    low, high = SEVERITY_SCALE
    if isinstance(severity, bool) or not isinstance(severity, int | float) or not math.isfinite(severity) \
            or not low <= severity <= high:
        raise EventRejected(f"detail.severity {shown(severity)} is not on GuardDuty's {low:g}-{high:g} scale",
                            finding_id)
    for member in ("createdAt", "updatedAt"):
        if not _timestamp(finding[member]):
            raise EventRejected(f"detail.{member} {shown(finding[member])} is not an ISO-8601 time", finding_id)
    arn = finding["arn"]
    expected_tail = f"/finding/{finding_id}"
    if not arn.startswith("arn:") or not arn.endswith(expected_tail) \
            or f":{finding['region']}:{finding['accountId']}:" not in arn:
        raise EventRejected(f"detail.arn {shown(arn, 80)} does not name this finding in its account and region",
                            finding_id)
