"""Remembering what was done for a finding, on the resource itself (tags), so repeats change nothing.

Lambda delivers asynchronous events at least once, and GuardDuty re-publishes a finding (same id)
when it aggregates new occurrences. Steps whose effect is visible state (quarantine, snapshots by
tag, stop) check that state; steps with no state to check (a notification) leave a marker tag.
"""

from __future__ import annotations

from typing import Any

HANDLED_TAG = "gdsim:handled-finding"
NOTIFIED_TAG = "gdsim:notified-finding"


def tags_of(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", []) if "Key" in t}


def marked(resource: dict[str, Any], marker: str, finding_id: str) -> bool:
    return tags_of(resource).get(marker) == finding_id


def mark(ec2: Any, resource_id: str, marker: str, finding_id: str) -> None:
    ec2.create_tags(Resources=[resource_id], Tags=[{"Key": marker, "Value": finding_id}])
