"""Which security groups are in force on each network interface: AWS's model, read from AWS or moto.

This module is the one place where the harness reconciles the emulator's security-group reporting
with AWS, so that a responder correct on AWS is judged quarantined here and a wrong one is not.

On AWS, security groups belong to network interfaces. ``ModifyNetworkInterfaceAttribute(Groups)``
sets one interface's groups; ``ModifyInstanceAttribute(Groups)`` is shorthand for the primary
interface and is refused on an instance with several interfaces ("There are multiple interfaces
attached to instance ... Please specify an interface ID"). Every interface has at least one group.

moto 5.2 keeps an instance-level list apart from each interface's own list:
``ModifyInstanceAttribute`` writes only the instance list (even with several interfaces), and every
attached interface is *reported* with its own groups plus the instance list. So after a correct AWS
quarantine through ``ModifyNetworkInterfaceAttribute`` on every interface, moto still reports the old
instance groups on each of them; after ``ModifyInstanceAttribute`` alone, it reports the new group
on every interface although their own groups are unchanged.

The decision, applied identically to every target:

* An interface's own groups are read with the ``group-id`` filter of DescribeNetworkInterfaces,
  which matches own groups in moto and all groups on AWS, so the query means the same thing on both.
  (If the own groups cannot be read or are empty, the reported groups stand in for them.)
* A secondary interface is judged by its own groups only: the instance list never reaches it on AWS.
* The primary interface of a single-interface instance is judged isolated if either its own groups
  or the instance-level list are all isolating: both are the one AWS setting written by the two
  calls, and the observer asks when quarantine first held. On an instance with several interfaces
  the instance list does not count, since AWS refuses to write it.
* A group isolates when it has no ingress and no egress rule (a new group carries allow-all egress).

Consequences: modifying the instance attribute alone quarantines a single-interface instance (as on
AWS) but never one with two interfaces; modifying every interface quarantines it whatever moto
reports for the instance; an isolation group that still has its default egress rule never counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class InterfaceGroups:
    """One attached interface as the sandbox reports it, plus its own groups once read."""

    interface_id: str
    device_index: int
    reported: frozenset[str]
    own: frozenset[str] | None = None


def interfaces_of(instance: Mapping[str, Any]) -> list[InterfaceGroups]:
    """The attached interfaces of a DescribeInstances instance, primary first."""
    found = []
    for nic in instance.get("NetworkInterfaces", []):
        index = int((nic.get("Attachment") or {}).get("DeviceIndex", 0))
        groups = frozenset(group["GroupId"] for group in nic.get("Groups", []))
        found.append(InterfaceGroups(nic["NetworkInterfaceId"], index, groups))
    return sorted(found, key=lambda nic: nic.device_index)


def group_views(interfaces: Sequence[InterfaceGroups],
                instance_groups: frozenset[str]) -> dict[str, tuple[frozenset[str], ...]]:
    """For each interface, the group sets that may be the one AWS would have in force (see module doc)."""
    single = len(interfaces) == 1
    views: dict[str, tuple[frozenset[str], ...]] = {}
    for nic in interfaces:
        own = nic.own if nic.own else nic.reported
        if nic.device_index == 0 and single and instance_groups:
            views[nic.interface_id] = (own, instance_groups)
        else:
            views[nic.interface_id] = (own,)
    return views


def exposed_interfaces(interfaces: Sequence[InterfaceGroups], instance_groups: frozenset[str],
                       isolating: frozenset[str]) -> list[str]:
    """Interfaces not isolated: none of their views is a non-empty set of isolating groups only."""
    exposed = []
    for interface_id, views in group_views(interfaces, instance_groups).items():
        if not any(view and view <= isolating for view in views):
            exposed.append(interface_id)
    return exposed


def isolating_groups(security_groups: Sequence[Mapping[str, Any]]) -> frozenset[str]:
    """The ids of DescribeSecurityGroups entries with no ingress and no egress rule."""
    return frozenset(
        group["GroupId"] for group in security_groups
        if not group.get("IpPermissions") and not group.get("IpPermissionsEgress")
    )
