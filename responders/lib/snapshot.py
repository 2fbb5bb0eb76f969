"""Forensic snapshots of an instance's volumes, tagged with the finding id (once per volume and finding).

CreateSnapshot takes no idempotency token, so a retry first looks for the snapshot by its tags.
"""

from __future__ import annotations

from typing import Any

from responders.lib.retry import call_once

FINDING_TAG = "gdsim:finding-id"


def attached_volumes(instance: dict[str, Any]) -> list[tuple[str, str]]:
    """(volume id, device name) of every EBS volume attached to a DescribeInstances item."""
    return [(m["Ebs"]["VolumeId"], m.get("DeviceName", "")) for m in instance.get("BlockDeviceMappings", [])
            if m.get("Ebs", {}).get("VolumeId")]


def snapshots_for_finding(ec2: Any, finding_id: str, volume_ids: list[str]) -> dict[str, str]:
    """volume id -> snapshot id of the snapshots of ``volume_ids`` already taken for this finding.

    The volume filter comes first: it narrows the search to a few snapshots before any tag is compared,
    which keeps the lookup cheap when an account holds thousands of snapshots (a finding storm).
    """
    if not volume_ids:
        return {}
    found = ec2.describe_snapshots(OwnerIds=["self"], Filters=[
        {"Name": "volume-id", "Values": volume_ids},
        {"Name": f"tag:{FINDING_TAG}", "Values": [finding_id]}])["Snapshots"]
    return {s["VolumeId"]: s["SnapshotId"] for s in found if s.get("State") != "error"}


def snapshot_volumes(ec2: Any, instance: dict[str, Any], *, finding_id: str,
                     tags: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Snapshot each attached volume not yet snapshotted for ``finding_id``.

    Returns one record per volume: volume_id, device, snapshot_id, created (False when reused).
    """
    instance_id = instance["InstanceId"]
    volumes = attached_volumes(instance)
    volume_ids = [volume_id for volume_id, _ in volumes]
    existing = snapshots_for_finding(ec2, finding_id, volume_ids)
    raw = getattr(ec2, "raw", ec2)  # retried here, checking first, not blindly by the client wrapper
    records = []
    for volume_id, device in volumes:
        if volume_id in existing:
            records.append({"volume_id": volume_id, "device": device, "snapshot_id": existing[volume_id],
                            "created": False})
            continue
        all_tags = {FINDING_TAG: finding_id, "gdsim:instance-id": instance_id, "gdsim:device": device,
                    **(tags or {})}
        def taken_meanwhile(volume: str = volume_id) -> str | None:
            return snapshots_for_finding(ec2, finding_id, [volume]).get(volume)

        snapshot_id: str = call_once(
            lambda **params: raw.create_snapshot(**params)["SnapshotId"],
            taken_meanwhile,
            VolumeId=volume_id,
            Description=f"Forensic copy of {volume_id} ({device}) of {instance_id}, finding {finding_id}"[:255],
            TagSpecifications=[{"ResourceType": "snapshot",
                                "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items() if v]}],
        )
        records.append({"volume_id": volume_id, "device": device, "snapshot_id": snapshot_id, "created": True})
    return records
