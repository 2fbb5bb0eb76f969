"""EC2 observers: instance quarantined, volumes snapshotted, instance stopped."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from simulator.observers.base import FINDING_TAG, Observer
from simulator.observers.clients import sandbox_client
from simulator.observers.interface_groups import (
    exposed_interfaces,
    interfaces_of,
    isolating_groups,
)
from simulator.observers.registry import register
from simulator.targets.base import Sandbox

_GONE = ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed")


def describe_instance(sandbox: Sandbox, instance_id: str) -> dict[str, Any] | None:
    """The DescribeInstances view of one instance, or None once it no longer exists."""
    try:
        reservations = sandbox_client(sandbox, "ec2").describe_instances(InstanceIds=[instance_id])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _GONE:
            return None
        raise
    for reservation in reservations.get("Reservations", []):
        for instance in reservation.get("Instances", []):
            return instance
    return None


class _InstanceObserver(Observer):
    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        self.instance = self.resource("instance")
        self.instance_id: str = self.instance["id"]
        self.resource_ids.add(self.instance_id)


@register("instance_quarantined", "instance")
class InstanceQuarantined(_InstanceObserver):
    """Every network interface of the instance is only in groups with no ingress and no egress rule.

    How the emulator's group reporting is read is decided in :mod:`simulator.observers.interface_groups`.
    """

    causing_operations = frozenset({
        "ModifyNetworkInterfaceAttribute", "ModifyInstanceAttribute", "DetachNetworkInterface",
        "RevokeSecurityGroupEgress", "RevokeSecurityGroupIngress", "ModifySecurityGroupRules",
    })

    def check(self, sandbox: Sandbox) -> bool:
        instance = describe_instance(sandbox, self.instance_id)
        if instance is None or instance.get("State", {}).get("Name") in ("shutting-down", "terminated"):
            self.detail = f"{self.instance_id} was terminated, not quarantined"
            return False
        interfaces = interfaces_of(instance)
        instance_groups = frozenset(group["GroupId"] for group in instance.get("SecurityGroups", []))
        candidates = instance_groups.union(*(nic.reported for nic in interfaces))
        self.resource_ids.update(nic.interface_id for nic in interfaces)
        self.resource_ids.update(candidates)
        ec2 = sandbox_client(sandbox, "ec2")
        described = ec2.describe_security_groups(GroupIds=sorted(candidates))["SecurityGroups"]
        isolating = isolating_groups(described)
        # Reported groups include own groups, so an all-isolating report settles it without more calls;
        # own groups are read only for interfaces whose report mixes isolating and other groups.
        exposed = exposed_interfaces(interfaces, instance_groups, isolating)
        hopeless = [nic for nic in interfaces if nic.interface_id in exposed and not nic.reported & isolating]
        if exposed and not hopeless:
            own = self._own_groups(sandbox, sorted(candidates))
            interfaces = [replace(nic, own=frozenset(own.get(nic.interface_id, ()))) for nic in interfaces]
            exposed = exposed_interfaces(interfaces, instance_groups, isolating)
        if exposed:
            self.detail = f"{len(exposed)} of {len(interfaces)} interfaces not isolated: {', '.join(exposed)}"
            return False
        self.detail = None
        return True

    def _own_groups(self, sandbox: Sandbox, group_ids: list[str]) -> dict[str, set[str]]:
        ec2 = sandbox_client(sandbox, "ec2")
        own: dict[str, set[str]] = {}
        for group_id in group_ids:
            found = ec2.describe_network_interfaces(Filters=[
                {"Name": "group-id", "Values": [group_id]},
                {"Name": "attachment.instance-id", "Values": [self.instance_id]},
            ])["NetworkInterfaces"]
            for nic in found:
                own.setdefault(nic["NetworkInterfaceId"], set()).add(group_id)
        return own


@register("volumes_snapshotted", "instance")
class VolumesSnapshotted(_InstanceObserver):
    """Every volume attached at injection has a snapshot tagged with the finding id."""

    causing_operations = frozenset({"CreateSnapshot", "CreateSnapshots", "CreateTags"})

    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        self.volume_ids: set[str] = {volume["id"] for volume in self.instance.get("volumes", [])}
        self.resource_ids.update(self.volume_ids)

    def prepare(self, sandbox: Sandbox) -> None:
        super().prepare(sandbox)
        # What is attached right before injection is what the runbook means by "its volumes".
        volumes = sandbox_client(sandbox, "ec2").describe_volumes(
            Filters=[{"Name": "attachment.instance-id", "Values": [self.instance_id]}]
        )["Volumes"]
        if volumes:
            self.volume_ids = {volume["VolumeId"] for volume in volumes}
            self.resource_ids.update(self.volume_ids)

    def check(self, sandbox: Sandbox) -> bool:
        if not self.finding_id:
            self.detail = "the finding has no id to tag snapshots with"
            return False
        snapshots = sandbox_client(sandbox, "ec2").describe_snapshots(
            OwnerIds=["self"], Filters=[{"Name": f"tag:{FINDING_TAG}", "Values": [self.finding_id]}]
        )["Snapshots"]
        usable = [snap for snap in snapshots if snap.get("State") != "error"]
        self.resource_ids.update(snap["SnapshotId"] for snap in usable)
        missing = sorted(self.volume_ids - {snap["VolumeId"] for snap in usable})
        if missing:
            done = len(self.volume_ids) - len(missing)
            self.detail = f"{done} of {len(self.volume_ids)} volumes snapshotted; missing {', '.join(missing)}"
            return False
        self.detail = None
        return True


@register("instance_stopped", "instance")
class InstanceStopped(_InstanceObserver):
    """The instance is stopping or stopped; terminated is a different outcome and never counts."""

    causing_operations = frozenset({"StopInstances"})

    def check(self, sandbox: Sandbox) -> bool:
        instance = describe_instance(sandbox, self.instance_id)
        state = instance.get("State", {}).get("Name") if instance else "terminated"
        if state in ("stopping", "stopped"):
            self.detail = None
            return True
        if state in ("shutting-down", "terminated"):
            self.detail = f"{self.instance_id} was terminated instead of stopped (evidence lost)"
        else:
            self.detail = f"{self.instance_id} is {state}"
        return False
