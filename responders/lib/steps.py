"""Runbook steps several responders share, each returning an Outcome for Runbook.step."""

from __future__ import annotations

from typing import Any

from responders.lib.activity import recent_activity
from responders.lib.quarantine import isolate_instance, isolation_group
from responders.lib.runbook import Outcome, outcome
from responders.lib.snapshot import snapshot_volumes


def quarantine(ec2: Any, instance: dict[str, Any]) -> Outcome:
    """Every interface of the instance in its VPC's isolation group."""
    vpc_id = instance.get("VpcId")
    if not vpc_id:
        raise RuntimeError(f"instance {instance['InstanceId']} is in no VPC; cannot isolate it")
    group_id = isolation_group(ec2, vpc_id)
    changed = isolate_instance(ec2, instance, group_id)
    return outcome(bool(changed), {"isolation_group": group_id, "changed": changed})


def snapshot(ec2: Any, instance: dict[str, Any], finding_id: str) -> Outcome:
    """A forensic snapshot of each attached volume, once per finding."""
    records = snapshot_volumes(ec2, instance, finding_id=finding_id)
    if not records:
        return "nothing to do", "no EBS volumes attached"
    return outcome(any(r["created"] for r in records), records)


def review_activity(cloudtrail: Any, username: str, access_key_id: str | None, hours: float) -> Outcome:
    """What the principal (by CloudTrail user name, and the access key when known) did lately."""
    lookups = [("Username", username)]
    if access_key_id:
        lookups.append(("AccessKeyId", access_key_id))
    return "done", recent_activity(cloudtrail, lookups, hours=hours)
