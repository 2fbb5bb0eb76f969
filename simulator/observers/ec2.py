"""EC2 observers: instance quarantined, volumes snapshotted, instance stopped.

Each observer reads what it needs with a few narrow calls. Observers that poll many findings together (a
storm) share an :class:`InstanceStates` and a :class:`FindingSnapshots`: one batched read per refresh
for all of them instead of one per observer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
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
_SNAPSHOT_GONE = ("InvalidSnapshot.NotFound",)
# Ids per request of a batched read: requests stay small (AWS takes up to 200 values per filter).
BATCH = 100
_FEW = 10


def _batches(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), BATCH):
        yield items[start:start + BATCH]


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


class InstanceStates:
    """DescribeInstances (and the security groups asked about) of many instances, read once per refresh.

    Instances are read by an ``instance-id`` filter a page at a time: an instance gone from the sandbox
    is simply absent, where naming it in ``InstanceIds`` would fail the whole request.
    """

    def __init__(self, instance_ids: Iterable[str]) -> None:
        self.instance_ids = sorted(set(instance_ids))
        self._instances: dict[str, dict[str, Any]] | None = None
        self._groups: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()  # observers of one view may be checked from several threads

    def refresh(self) -> None:
        """Forget what was read: the next question reads the sandbox again (once for all instances)."""
        with self._lock:
            self._instances = None
            self._groups = {}

    def instance(self, sandbox: Sandbox, instance_id: str) -> dict[str, Any] | None:
        if instance_id not in self.instance_ids:
            return describe_instance(sandbox, instance_id)
        with self._lock:
            if self._instances is None:
                self._instances = self._read(sandbox)
            return self._instances.get(instance_id)

    def security_groups(self, sandbox: Sandbox, group_ids: Iterable[str]) -> list[dict[str, Any]]:
        """DescribeSecurityGroups items of ``group_ids`` (sorted); only groups not read since the refresh are asked."""
        wanted = sorted(set(group_ids))
        with self._lock:
            missing = [group_id for group_id in wanted if group_id not in self._groups]
            if missing:
                found = sandbox_client(sandbox, "ec2").describe_security_groups(GroupIds=missing)["SecurityGroups"]
                self._groups.update((group["GroupId"], group) for group in found)
            return [self._groups[group_id] for group_id in wanted if group_id in self._groups]

    def _read(self, sandbox: Sandbox) -> dict[str, dict[str, Any]]:
        paginator = sandbox_client(sandbox, "ec2").get_paginator("describe_instances")
        found: dict[str, dict[str, Any]] = {}
        for batch in _batches(self.instance_ids):
            for page in paginator.paginate(Filters=[{"Name": "instance-id", "Values": batch}]):
                for reservation in page.get("Reservations", []):
                    found.update((item["InstanceId"], item) for item in reservation.get("Instances", []))
        return found


class FindingSnapshots:
    """The snapshots tagged with each of many finding ids, read once per refresh.

    DescribeTags finds the tagged snapshots, then DescribeSnapshots reads just those. A tag filter on
    DescribeSnapshots costs the emulator a lookup of every snapshot's tags, each over every tag it
    holds, which grows with the square of the snapshots a storm takes.
    """

    def __init__(self, finding_ids: Iterable[str]) -> None:
        self.finding_ids = sorted({fid for fid in finding_ids if fid})
        self._snapshots: dict[str, list[dict[str, Any]]] | None = None
        self._lock = threading.Lock()

    def refresh(self) -> None:
        with self._lock:
            self._snapshots = None

    def of(self, sandbox: Sandbox, finding_id: str) -> list[dict[str, Any]]:
        """DescribeSnapshots items of the snapshots tagged with ``finding_id``."""
        if finding_id not in self.finding_ids:
            return FindingSnapshots([finding_id]).of(sandbox, finding_id)
        with self._lock:
            if self._snapshots is None:
                self._snapshots = self._read(sandbox)
            return self._snapshots.get(finding_id, [])

    def _read(self, sandbox: Sandbox) -> dict[str, list[dict[str, Any]]]:
        ec2 = sandbox_client(sandbox, "ec2")
        wanted = set(self.finding_ids)
        # A few findings: ask for their values; more: every snapshot carrying the tag, sorted out here (the
        # emulator matches each tag against each value asked).
        values = [{"Name": "value", "Values": self.finding_ids}] if len(self.finding_ids) <= _FEW else []
        owner: dict[str, str] = {}
        for page in ec2.get_paginator("describe_tags").paginate(Filters=[
                {"Name": "resource-type", "Values": ["snapshot"]}, {"Name": "key", "Values": [FINDING_TAG]},
                *values]):
            for tag in page.get("Tags", []):
                if tag.get("Value") in wanted and tag.get("Key") == FINDING_TAG:
                    owner[tag["ResourceId"]] = tag["Value"]
        found: dict[str, list[dict[str, Any]]] = {}
        for batch in _batches(sorted(owner)):
            for snapshot in _describe_snapshots(ec2, batch):
                fid = owner.get(snapshot.get("SnapshotId", ""))
                if fid is not None:
                    found.setdefault(fid, []).append(snapshot)
        return found


def _describe_snapshots(ec2: Any, snapshot_ids: list[str]) -> list[dict[str, Any]]:
    try:
        return list(ec2.describe_snapshots(OwnerIds=["self"], SnapshotIds=snapshot_ids)["Snapshots"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in _SNAPSHOT_GONE:
            raise
    # One was deleted since the tags were read: a filter leaves it out instead of failing.
    return list(ec2.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "snapshot-id", "Values": snapshot_ids}],
                                       )["Snapshots"])


def share_reads(observers: Iterable[Observer]) -> None:
    """Let EC2 observers polled together read the sandbox once for all of them per refresh of the views
    they now share (other observers are left as they are)."""
    group = [observer for observer in observers if isinstance(observer, _InstanceObserver)]
    if not group:
        return
    instances = InstanceStates(observer.instance_id for observer in group)
    snapshots = FindingSnapshots(observer.finding_id for observer in group
                                 if isinstance(observer, VolumesSnapshotted) and observer.finding_id)
    for observer in group:
        observer.instances = instances
        if isinstance(observer, VolumesSnapshotted):
            observer.snapshots = snapshots


class _InstanceObserver(Observer):
    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        self.instance = self.resource("instance")
        self.instance_id: str = self.instance["id"]
        self.resource_ids.add(self.instance_id)
        # Shared with other observers polled together; None: this observer reads for itself.
        self.instances: InstanceStates | None = None

    def _describe(self, sandbox: Sandbox) -> dict[str, Any] | None:
        if self.instances is not None:
            return self.instances.instance(sandbox, self.instance_id)
        return describe_instance(sandbox, self.instance_id)


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
        instance = self._describe(sandbox)
        if instance is None or instance.get("State", {}).get("Name") in ("shutting-down", "terminated"):
            self.detail = f"{self.instance_id} was terminated, not quarantined"
            return False
        interfaces = interfaces_of(instance)
        instance_groups = frozenset(group["GroupId"] for group in instance.get("SecurityGroups", []))
        candidates = instance_groups.union(*(nic.reported for nic in interfaces))
        self.resource_ids.update(nic.interface_id for nic in interfaces)
        self.resource_ids.update(candidates)
        if self.instances is not None:
            described = self.instances.security_groups(sandbox, candidates)
        else:
            described = sandbox_client(sandbox, "ec2").describe_security_groups(
                GroupIds=sorted(candidates))["SecurityGroups"]
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
        self.snapshots: FindingSnapshots | None = None  # shared with other observers polled together

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
        source = self.snapshots if self.snapshots is not None else FindingSnapshots([self.finding_id])
        snapshots = source.of(sandbox, self.finding_id)
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
        instance = self._describe(sandbox)
        state = instance.get("State", {}).get("Name") if instance else "terminated"
        if state in ("stopping", "stopped"):
            self.detail = None
            return True
        if state in ("shutting-down", "terminated"):
            self.detail = f"{self.instance_id} was terminated instead of stopped (evidence lost)"
        else:
            self.detail = f"{self.instance_id} is {state}"
        return False
