"""A snapshot of the state of everything the harness built, to diff before and after a run.

Keys are resource ids; each state is a plain, comparable dict (lists sorted, no timestamps), so
``before[id] != after[id]`` means the resource was changed. Volumes and network interfaces appear
inside their instance and volumes also on their own (with their snapshots).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from simulator.provision import clients
from simulator.provision.environment import ProvisionedEnvironment
from simulator.provision.naming import tag_dict
from simulator.targets.base import Sandbox

State = dict[str, Any]


def take_inventory(sandbox: Sandbox, env: ProvisionedEnvironment) -> dict[str, State]:
    """{resource id: state} for every resource in ``env``."""
    readers: list[Callable[[], dict[str, State]]] = [partial(_ec2, sandbox, env)]
    readers += [partial(_user, sandbox, user) for user in env.of_kind("user")]
    readers += [partial(_role, sandbox, role) for role in env.of_kind("role")]
    readers += [partial(_bucket, sandbox, bucket) for bucket in env.of_kind("bucket")]
    readers += [partial(_topic, sandbox, topic) for topic in env.of_kind("topic")]
    # Resources are independent; reading them side by side keeps a before/after pair cheap.
    with ThreadPoolExecutor(max_workers=min(8, len(readers))) as pool:
        parts = list(pool.map(lambda read: read(), readers))
    inventory: dict[str, State] = {}
    for part in parts:
        inventory.update(part)
    return inventory


def _client(sandbox: Sandbox, service: str) -> Any:
    return clients.client(sandbox, service)


def _missing(code: str) -> bool:
    return code.startswith("NoSuch") or code.endswith("NotFound")


# ---------------------------------------------------------------------- EC2


def _ec2(sandbox: Sandbox, env: ProvisionedEnvironment) -> dict[str, State]:
    ec2 = _client(sandbox, "ec2")
    states: dict[str, State] = {}
    instances = env.of_kind("instance")
    instance_ids = [d["id"] for d in instances]
    volume_ids = [v["id"] for d in instances for v in d.get("volumes") or []]
    if instance_ids:
        states.update(_instances(ec2, instances, instance_ids))
    if volume_ids:
        states.update(_volumes(ec2, env, volume_ids))
    group_ids = [d["id"] for d in env.of_kind("security_group")]
    if group_ids:
        for group in ec2.describe_security_groups(GroupIds=group_ids)["SecurityGroups"]:
            states[group["GroupId"]] = {
                "kind": "security_group", "name": env.owner_of(group["GroupId"]),
                "ingress": _rules(group.get("IpPermissions", [])),
                "egress": _rules(group.get("IpPermissionsEgress", [])),
                "tags": tag_dict(group.get("Tags")),
            }
    vpcs = env.of_kind("vpc")
    subnets = env.of_kind("subnet")
    if vpcs:
        states.update(_vpcs(ec2, env, [d["id"] for d in vpcs], [d["id"] for d in subnets]))
    return states


def _instances(ec2: Any, instances: list[dict[str, Any]], instance_ids: list[str]) -> dict[str, State]:
    reservations = ec2.describe_instances(InstanceIds=instance_ids)["Reservations"]
    associations = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": instance_ids}])["IamInstanceProfileAssociations"]
    profiles: dict[str, list[str]] = {}
    for association in associations:
        if association.get("State") in ("associated", "associating"):
            profiles.setdefault(association["InstanceId"], []).append(association["IamInstanceProfile"]["Arn"])
    names = {d["id"]: d["name"] for d in instances}
    states: dict[str, State] = {}
    for reservation in reservations:
        for item in reservation["Instances"]:
            instance_id = item["InstanceId"]
            states[instance_id] = {
                "kind": "instance", "name": names.get(instance_id),
                "state": item["State"]["Name"],
                "security_groups": sorted(group["GroupId"] for group in item.get("SecurityGroups", [])),
                "network_interfaces": {
                    nic["NetworkInterfaceId"]: sorted(group["GroupId"] for group in nic.get("Groups", []))
                    for nic in item.get("NetworkInterfaces", [])},
                "instance_profiles": sorted(profiles.get(instance_id, [])),
                "volumes": sorted(mapping["Ebs"]["VolumeId"] for mapping in item.get("BlockDeviceMappings", [])
                                  if "Ebs" in mapping),
                "tags": tag_dict(item.get("Tags")),
            }
    return states


def _volumes(ec2: Any, env: ProvisionedEnvironment, volume_ids: list[str]) -> dict[str, State]:
    volumes = ec2.describe_volumes(Filters=[{"Name": "volume-id", "Values": volume_ids}])["Volumes"]
    snapshots = ec2.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "volume-id", "Values": volume_ids}])
    by_volume: dict[str, list[str]] = {}
    for snapshot in snapshots["Snapshots"]:
        by_volume.setdefault(snapshot["VolumeId"], []).append(snapshot["SnapshotId"])
    states: dict[str, State] = {}
    for volume in volumes:
        volume_id = volume["VolumeId"]
        states[volume_id] = {
            "kind": "volume", "name": env.owner_of(volume_id),
            "state": volume["State"],
            "attached_to": sorted(attachment["InstanceId"] for attachment in volume.get("Attachments", [])
                                  if attachment.get("State") != "detached"),
            "snapshots": sorted(by_volume.get(volume_id, [])),
            "tags": tag_dict(volume.get("Tags")),
        }
    for volume_id in volume_ids:
        states.setdefault(volume_id, {"kind": "volume", "name": env.owner_of(volume_id), "state": "deleted",
                                      "attached_to": [], "snapshots": sorted(by_volume.get(volume_id, [])),
                                      "tags": {}})
    return states


def _vpcs(ec2: Any, env: ProvisionedEnvironment, vpc_ids: list[str], subnet_ids: list[str]) -> dict[str, State]:
    states: dict[str, State] = {}
    in_vpcs = [{"Name": "vpc-id", "Values": vpc_ids}]
    acls = ec2.describe_network_acls(Filters=in_vpcs)["NetworkAcls"]
    acl_of_subnet = {assoc["SubnetId"]: acl["NetworkAclId"] for acl in acls for assoc in acl.get("Associations", [])}
    for vpc in ec2.describe_vpcs(VpcIds=vpc_ids)["Vpcs"]:
        states[vpc["VpcId"]] = {
            "kind": "vpc", "name": env.owner_of(vpc["VpcId"]), "state": vpc.get("State"),
            "network_acls": {acl["NetworkAclId"]: _acl_entries(acl) for acl in acls if acl["VpcId"] == vpc["VpcId"]},
            "tags": tag_dict(vpc.get("Tags")),
        }
    if subnet_ids:
        for subnet in ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]:
            states[subnet["SubnetId"]] = {
                "kind": "subnet", "name": env.owner_of(subnet["SubnetId"]), "state": subnet.get("State"),
                "network_acl": acl_of_subnet.get(subnet["SubnetId"]),
                "map_public_ip_on_launch": subnet.get("MapPublicIpOnLaunch", False),
                "tags": tag_dict(subnet.get("Tags")),
            }
    return states


def _rules(permissions: list[dict[str, Any]]) -> list[str]:
    """One comparable line per rule: protocol, ports, and each source."""
    lines = []
    for permission in permissions:
        head = f"{permission.get('IpProtocol')}:{permission.get('FromPort', '')}-{permission.get('ToPort', '')}"
        sources = [r["CidrIp"] for r in permission.get("IpRanges", [])]
        sources += [r["CidrIpv6"] for r in permission.get("Ipv6Ranges", [])]
        sources += [p["GroupId"] for p in permission.get("UserIdGroupPairs", [])]
        sources += [p["PrefixListId"] for p in permission.get("PrefixListIds", [])]
        lines += [f"{head} {source}" for source in sources] or [head]
    return sorted(lines)


def _acl_entries(acl: dict[str, Any]) -> list[str]:
    return sorted(
        f"{'egress' if entry.get('Egress') else 'ingress'} #{entry.get('RuleNumber')} {entry.get('RuleAction')} "
        f"{entry.get('Protocol')} {entry.get('CidrBlock') or entry.get('Ipv6CidrBlock')} "
        f"{(entry.get('PortRange') or {}).get('From', '')}-{(entry.get('PortRange') or {}).get('To', '')}"
        for entry in acl.get("Entries", []))


# ---------------------------------------------------------------------- IAM


def _user(sandbox: Sandbox, user: dict[str, Any]) -> dict[str, State]:
    iam = _client(sandbox, "iam")
    name = user["user_name"]
    try:
        keys = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    except ClientError as exc:
        if _missing(exc.response["Error"]["Code"]):
            return {user["id"]: {"kind": "user", "name": user["name"], "exists": False}}
        raise
    try:
        iam.get_login_profile(UserName=name)
        login_profile = True
    except ClientError as exc:
        if not _missing(exc.response["Error"]["Code"]):
            raise
        login_profile = False
    return {user["id"]: {
        "kind": "user", "name": user["name"], "exists": True,
        "access_keys": {key["AccessKeyId"]: key["Status"] for key in keys},
        "login_profile": login_profile,
        "attached_policies": sorted(p["PolicyArn"] for p in
                                    iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]),
        "inline_policies": {policy: _document(iam.get_user_policy(UserName=name, PolicyName=policy))
                            for policy in iam.list_user_policies(UserName=name)["PolicyNames"]},
        "groups": sorted(g["GroupName"] for g in iam.list_groups_for_user(UserName=name)["Groups"]),
        "tags": tag_dict(iam.list_user_tags(UserName=name)["Tags"]),
    }}


def _role(sandbox: Sandbox, role: dict[str, Any]) -> dict[str, State]:
    iam = _client(sandbox, "iam")
    name = role["role_name"]
    try:
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    except ClientError as exc:
        if _missing(exc.response["Error"]["Code"]):
            return {role["id"]: {"kind": "role", "name": role["name"], "exists": False}}
        raise
    return {role["id"]: {
        "kind": "role", "name": role["name"], "exists": True,
        "attached_policies": sorted(p["PolicyArn"] for p in attached),
        "inline_policies": {policy: _document(iam.get_role_policy(RoleName=name, PolicyName=policy))
                            for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]},
        "instance_profiles": sorted(p["InstanceProfileName"] for p in
                                    iam.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]),
        "tags": tag_dict(iam.list_role_tags(RoleName=name)["Tags"]),
    }}


def _document(response: dict[str, Any]) -> Any:
    document = response.get("PolicyDocument")
    if isinstance(document, str):
        # IAM returns the document URL-encoded on the wire; botocore decodes it only sometimes.
        text = unquote(document)
        try:
            return json.loads(text)
        except ValueError:
            return text
    return document


# ---------------------------------------------------------------------- S3 and SNS


def _bucket(sandbox: Sandbox, bucket: dict[str, Any]) -> dict[str, State]:
    s3 = _client(sandbox, "s3")
    name = bucket["bucket_name"]
    return {name: {
        "kind": "bucket", "name": bucket["name"],
        "policy": _optional(lambda: json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])),
        "public_access_block": _optional(
            lambda: s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]),
        "acl": sorted(f"{g['Grantee'].get('ID') or g['Grantee'].get('URI')}:{g['Permission']}"
                      for g in s3.get_bucket_acl(Bucket=name)["Grants"]),
        "tags": tag_dict(_optional(lambda: s3.get_bucket_tagging(Bucket=name)["TagSet"])),
    }}


def _optional(read: Any) -> Any:
    """The value, or None where S3 says there is none (no policy, no public access block, no tags)."""
    try:
        return read()
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if _missing(code) or code.startswith("NoSuch"):
            return None
        raise


def _topic(sandbox: Sandbox, topic: dict[str, Any]) -> dict[str, State]:
    sns = _client(sandbox, "sns")
    arn = topic["arn"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    return {arn: {
        "kind": "topic", "name": topic["name"],
        "subscriptions": sorted(f"{s['Protocol']}:{s['Endpoint']}" for s in subscriptions),
        "policy": json.loads(attributes["Policy"]) if attributes.get("Policy") else None,
        "tags": tag_dict(sns.list_tags_for_resource(ResourceArn=arn)["Tags"]),
    }}
