"""Names the on-call, the escalation ladder and the observers agree on, derived from the run id."""

from __future__ import annotations

import re

# The acknowledgement table's partition key: one record per finding, written by whoever takes the page.
ACK_KEY = "finding_id"


def resource_name(run_id: str, suffix: str, limit: int) -> str:
    """``<run id>-<suffix>`` within a service's length limit and letters, digits, '-' and '_'."""
    raw = re.sub(r"[^A-Za-z0-9_-]", "-", f"{run_id}-{suffix}")
    return raw[:limit]


def ack_table_name(run_id: str) -> str:
    """The DynamoDB table holding on-call acknowledgements for one run."""
    return resource_name(run_id, "escalation-acks", 255)
