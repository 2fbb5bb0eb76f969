"""Paging a human: the escalation topic gets ``{"level", "contact", "finding_id", "reason"}``."""

from __future__ import annotations

from typing import Any

from responders.lib.notify import notify

REASON_LIMIT = 1000


def page(sns: Any, topic_arn: str, *, level: int, contact: str | None, finding_id: str | None,
         reason: str) -> str:
    """Publish a page at ``level`` (also a ``level`` Number attribute, for subscription filters)."""
    message = {"level": level, "contact": contact, "finding_id": finding_id, "reason": reason[:REASON_LIMIT]}
    return notify(sns, topic_arn, subject=f"Escalation level {level}: {reason}", message=message,
                  attributes={"level": level})
