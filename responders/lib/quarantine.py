"""Network quarantine: every network interface of an instance in one isolation group, no rules at all."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from responders.lib.instance import describe_instance, error_code

ISOLATION_TAG = "gdsim:isolation"


class QuarantineIncomplete(Exception):
    """The instance still has an interface outside the isolation group after isolating it."""


def strip_rules(ec2: Any, group: dict[str, Any]) -> bool:
    """Revoke every ingress and egress rule of ``group`` (new groups allow all egress); True if any."""
    changed = False
    if group.get("IpPermissions"):
        ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=group["IpPermissions"])
        changed = True
    if group.get("IpPermissionsEgress"):
        ec2.revoke_security_group_egress(GroupId=group["GroupId"], IpPermissions=group["IpPermissionsEgress"])
        changed = True
    return changed


def isolation_group(ec2: Any, vpc_id: str, *, tags: dict[str, str] | None = None) -> str:
    """The VPC's isolation group (found by tag, else created), with no ingress and no egress."""
    found = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]}, {"Name": f"tag:{ISOLATION_TAG}", "Values": ["true"]}])
    groups = found["SecurityGroups"]
    if not groups:
        name = f"gdsim-isolation-{vpc_id}"
        all_tags = {ISOLATION_TAG: "true", "Name": name, **(tags or {})}
        try:
            group_id = ec2.create_security_group(
                GroupName=name, VpcId=vpc_id,
                Description="Quarantine: no inbound, no outbound. Created by an incident responder.",
                TagSpecifications=[{"ResourceType": "security-group",
                                    "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()]}],
            )["GroupId"]
            groups = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
        except ClientError as exc:
            if error_code(exc) != "InvalidGroup.Duplicate":
                raise
            # Another responder created it at the same moment, or its tag was removed: same name.
            groups = ec2.describe_security_groups(Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [name]}])["SecurityGroups"]
    group = groups[0]
    strip_rules(ec2, group)
    return str(group["GroupId"])


def interfaces_outside(instance: dict[str, Any], group_id: str) -> list[str]:
    """Interfaces whose groups are not exactly ``[group_id]``."""
    return [eni["NetworkInterfaceId"] for eni in instance.get("NetworkInterfaces", [])
            if [g["GroupId"] for g in eni.get("Groups", [])] != [group_id]]


def is_isolated(instance: dict[str, Any], group_id: str) -> bool:
    groups_of_instance = [g["GroupId"] for g in instance.get("SecurityGroups", [])]
    return not interfaces_outside(instance, group_id) and groups_of_instance in ([], [group_id])


def isolate_instance(ec2: Any, instance: dict[str, Any], group_id: str) -> list[str]:
    """Put every interface of ``instance`` (a DescribeInstances item) only in ``group_id``.

    Returns the ids changed (interfaces, and the instance if its own group list needed it).
    """
    instance_id = instance["InstanceId"]
    changed: list[str] = []
    for eni_id in interfaces_outside(instance, group_id):
        ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, Groups=[group_id])
        changed.append(eni_id)
    current = describe_instance(ec2, instance_id) or instance
    if not is_isolated(current, group_id):
        # On AWS the interfaces are the truth and the instance's group list follows its primary
        # interface. Some emulators keep a separate instance-level list and report each interface
        # in its own groups plus that list, so it is set too. AWS refuses this call for instances
        # with several interfaces; by then every interface is isolated and the refusal is harmless.
        try:
            ec2.modify_instance_attribute(InstanceId=instance_id, Groups=[group_id])
            changed.append(instance_id)
        except ClientError as exc:
            if not (error_code(exc) == "InvalidInstanceID" and "multiple" in str(exc).lower()):
                raise
        current = describe_instance(ec2, instance_id) or current
    left = interfaces_outside(current, group_id)
    if left:
        raise QuarantineIncomplete(f"interfaces {', '.join(left)} are still outside isolation group {group_id}")
    return changed
