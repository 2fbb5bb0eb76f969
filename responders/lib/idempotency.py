"""Remembering what was done for a finding, so that repeats change nothing.

Lambda delivers asynchronous events at least once, and GuardDuty re-publishes a finding (same id)
when it aggregates new occurrences. Steps whose effect is visible state (quarantine, snapshots by
tag, stop) check that state; steps with no state to check (a notification, a page, the end of the
runbook) leave a marker in the runbook's Memory: tags on the resource itself (here), SSM parameters
(responders.lib.ledger) or the case file in the evidence bucket (responders.lib.gather.CaseFile).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

# The steps a runbook remembers per finding.
HANDLED, NOTIFIED, PAGED = "handled", "notified", "paged-level-1"

HANDLED_TAG = "gdsim:handled-finding"
NOTIFIED_TAG = "gdsim:notified-finding"
ESCALATED_TAG = "gdsim:escalated-finding"


class Memory(Protocol):
    """Where a runbook keeps what it did for a finding."""

    # Records keep the finding's version and the reason paged. Otherwise a record says only that the step
    # was done: then any later update of a handled finding is a repeat, and one page per finding is enough.
    detailed: bool
    # A marker it cannot write fails the step it belongs to (a repeat redoes the step, and the page says so).
    strict: bool

    def marker(self, step: str) -> dict[str, Any] | None:
        """What was recorded when ``step`` was done for this finding, or None if it never was."""

    def mark(self, step: str, record: Mapping[str, Any] | None = None) -> None: ...


def tags_of(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", []) if "Key" in t}


def marked(resource: dict[str, Any], marker: str, finding_id: str) -> bool:
    return tags_of(resource).get(marker) == finding_id


def mark(ec2: Any, resource_id: str, marker: str, finding_id: str) -> None:
    ec2.create_tags(Resources=[resource_id], Tags=[{"Key": marker, "Value": finding_id}])


class TagMemory:
    """Markers as tags on the resource the runbook acts on (a tag holds the finding id, nothing more).

    ``resource`` is the resource as read when the event came in (with its Tags); ``tags`` names the tag of
    each step kept (a step without one is not kept); ``write(tag, finding_id)`` tags the resource.
    """

    detailed = False
    strict = True

    def __init__(self, resource: dict[str, Any], finding_id: str, write: Callable[[str, str], None],
                 tags: Mapping[str, str]) -> None:
        self.resource = resource
        self.finding_id = finding_id
        self.write = write
        self.tags = tags

    def marker(self, step: str) -> dict[str, Any] | None:
        tag = self.tags.get(step)
        return {} if tag and marked(self.resource, tag, self.finding_id) else None

    def mark(self, step: str, record: Mapping[str, Any] | None = None) -> None:
        tag = self.tags.get(step)
        if tag:
            self.write(tag, self.finding_id)


def step_tags(*, pages: bool = True) -> dict[str, str]:
    """The marker tag of each step; ``pages``: remember pages too (else every run with a reason pages)."""
    tags = {HANDLED: HANDLED_TAG, NOTIFIED: NOTIFIED_TAG}
    return {**tags, PAGED: ESCALATED_TAG} if pages else tags


def instance_memory(ec2: Any, instance: dict[str, Any], finding_id: str, *, pages: bool = True) -> TagMemory:
    """Markers on an EC2 instance (a DescribeInstances item)."""
    instance_id = instance["InstanceId"]
    return TagMemory(instance, finding_id, lambda tag, value: mark(ec2, instance_id, tag, value),
                     step_tags(pages=pages))
