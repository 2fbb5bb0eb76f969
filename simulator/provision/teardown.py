"""Deleting what a run built, newest first, touching only resources tagged with the run id.

What lives inside a run's resources goes with them, since AWS refuses to delete a container that
still holds something: security groups, subnets and network ACLs in the run's VPC, snapshots of the
run's volumes, a run user's keys and policies, a run bucket's objects.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from simulator.provision import clients
from simulator.provision.environment import ProvisionedEnvironment
from simulator.provision.naming import RUN_TAG, tag_dict
from simulator.targets.base import Sandbox

# Deletes that AWS refuses for a while after a dependency went away (an ENI still detaching).
_DEPENDENCY_WAIT_SECONDS = 120.0


@dataclass
class TeardownResult:
    deleted: list[str] = field(default_factory=list)
    leftovers: list[tuple[str, str]] = field(default_factory=list)  # (id, why it is still there)

    @property
    def complete(self) -> bool:
        return not self.leftovers

    def summary(self) -> str:
        if self.complete:
            return f"deleted {len(self.deleted)} resources"
        left = "; ".join(f"{resource_id}: {why}" for resource_id, why in self.leftovers)
        return f"deleted {len(self.deleted)} resources; left behind: {left}"


def teardown(env: ProvisionedEnvironment, sandbox: Sandbox, *, verify_tags: bool = True) -> TeardownResult:
    """Delete the run's resources. With ``verify_tags`` (the default) a resource is deleted only if it
    carries ``gdsim:run-id = env.run_id``; without, everything recorded in ``env`` goes too (for a
    failed build whose last resource may not have been tagged yet)."""
    job = _Teardown(env, sandbox, verify_tags)
    for step in (job.instances, job.addresses, job.interfaces, job.snapshots, job.images, job.vpcs,
                 job.users, job.roles, job.buckets, job.topics):
        try:
            step()
        except ClientError as exc:
            job.result.leftovers.append((step.__name__, _error_text(exc)))
    return job.result


class _Teardown:
    def __init__(self, env: ProvisionedEnvironment, sandbox: Sandbox, verify_tags: bool) -> None:
        self.env = env
        self.sandbox = sandbox
        self.verify = verify_tags
        self.result = TeardownResult()
        self.prefix = f"{env.run_id}-"
        self.patient = not clients.is_emulator(sandbox)

    def client(self, service: str) -> Any:
        return clients.client(self.sandbox, service)

    def recorded(self, kind: str, key: str = "id") -> list[str]:
        return [d[key] for d in self.env.resources.values() if d.get("kind") == kind and d.get(key)]

    def tag_filter(self) -> list[dict[str, Any]]:
        return [{"Name": f"tag:{RUN_TAG}", "Values": [self.env.run_id]}]

    def candidates(self, tagged: Iterable[str], untagged: Iterable[str]) -> list[str]:
        """What to delete: the tagged ones, plus (only when not verifying) recorded ones that exist
        without the tag. Recorded ones that no longer exist are simply gone."""
        chosen = list(dict.fromkeys(tagged))
        for resource_id in untagged:
            if resource_id in chosen:
                continue
            if self.verify:
                self.result.leftovers.append((resource_id, f"not tagged {RUN_TAG}={self.env.run_id}; left alone"))
            else:
                chosen.append(resource_id)
        return chosen

    def untagged_ec2(self, describe: Callable[..., Any], key: str, id_key: str, filter_name: str,
                     recorded: list[str], tagged: Iterable[str], **extra: Any) -> list[str]:
        """Recorded EC2 resources that exist but were not found by the run's tag."""
        unknown = [resource_id for resource_id in recorded if resource_id not in set(tagged)]
        if not unknown:
            return []
        found = describe(Filters=[{"Name": filter_name, "Values": unknown}], **extra)[key]
        return [item[id_key] for item in found if item.get("State", {}).get("Name") != "terminated"]

    def delete(self, resource_id: str, call: Callable[[], Any], *, wait_dependencies: bool = False) -> None:
        deadline = time.monotonic() + (_DEPENDENCY_WAIT_SECONDS if wait_dependencies and self.patient else 0)
        delay = 2.0
        while True:
            try:
                call()
            except ClientError as exc:
                code = exc.response["Error"]["Code"]
                if _gone(code):
                    return
                if code == "DependencyViolation" and time.monotonic() + delay < deadline:
                    time.sleep(delay)
                    delay = min(delay * 1.5, 15.0)
                    continue
                self.result.leftovers.append((resource_id, _error_text(exc)))
                return
            self.result.deleted.append(resource_id)
            return

    # ------------------------------------------------------------------ EC2

    def instances(self) -> None:
        recorded = self.recorded("instance")
        if not recorded and not self._has_ec2():
            return
        ec2 = self.client("ec2")
        reservations = ec2.describe_instances(Filters=self.tag_filter())["Reservations"]
        found = {item["InstanceId"]: item["State"]["Name"] for r in reservations for item in r["Instances"]}
        live = [instance_id for instance_id, state in found.items() if state != "terminated"]
        unknown = [instance_id for instance_id in recorded if instance_id not in found]
        untagged = []
        if unknown:
            others = ec2.describe_instances(Filters=[{"Name": "instance-id", "Values": unknown}])["Reservations"]
            untagged = [item["InstanceId"] for r in others for item in r["Instances"]
                        if item["State"]["Name"] != "terminated"]
        ids = self.candidates(live, untagged)
        if not ids:
            return
        try:
            ec2.terminate_instances(InstanceIds=ids)
        except ClientError as exc:
            self.result.leftovers.extend((i, _error_text(exc)) for i in ids)
            return
        ec2.get_waiter("instance_terminated").wait(
            InstanceIds=ids, WaiterConfig={"Delay": 5 if self.patient else 0.05, "MaxAttempts": 120})
        self.result.deleted.extend(ids)

    def addresses(self) -> None:
        if not self._has_ec2():
            return
        ec2 = self.client("ec2")
        found = ec2.describe_addresses(Filters=self.tag_filter())["Addresses"]
        recorded = [d["elastic_ip"]["allocation_id"] for d in self.env.resources.values() if d.get("elastic_ip")]
        by_id = {address["AllocationId"]: address for address in found}
        untagged = self.untagged_ec2(ec2.describe_addresses, "Addresses", "AllocationId", "allocation-id",
                                     recorded, by_id)
        for allocation_id in self.candidates(by_id, untagged):
            association = by_id.get(allocation_id, {}).get("AssociationId")
            if association:
                self.delete(association, partial(ec2.disassociate_address, AssociationId=association))
            self.delete(allocation_id, partial(ec2.release_address, AllocationId=allocation_id))

    def interfaces(self) -> None:
        if not self._has_ec2():
            return
        ec2 = self.client("ec2")
        for nic in ec2.describe_network_interfaces(Filters=self.tag_filter())["NetworkInterfaces"]:
            attachment = nic.get("Attachment") or {}
            if attachment.get("DeviceIndex") == 0:
                continue  # a primary interface lives and dies with its instance
            if attachment.get("AttachmentId") and attachment.get("Status") != "detached":
                try:
                    ec2.detach_network_interface(AttachmentId=attachment["AttachmentId"], Force=True)
                except ClientError as exc:
                    if not _gone(exc.response["Error"]["Code"]):
                        raise
            nic_id = nic["NetworkInterfaceId"]
            self.delete(nic_id, partial(ec2.delete_network_interface, NetworkInterfaceId=nic_id),
                        wait_dependencies=True)

    def snapshots(self) -> None:
        volume_ids = [v["id"] for d in self.env.resources.values() if d.get("kind") == "instance"
                      for v in d.get("volumes") or []]
        if not volume_ids:
            return
        ec2 = self.client("ec2")
        found = ec2.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "volume-id", "Values": volume_ids}])
        for snapshot in found["Snapshots"]:
            snapshot_id = snapshot["SnapshotId"]
            self.delete(snapshot_id, partial(ec2.delete_snapshot, SnapshotId=snapshot_id))

    def images(self) -> None:
        recorded = [item["id"] for item in self.env.support if item.get("kind") == "image"]
        if not recorded:
            return
        ec2 = self.client("ec2")
        images = ec2.describe_images(Owners=["self"], Filters=self.tag_filter())["Images"]
        tagged = [image["ImageId"] for image in images if image["ImageId"] in recorded]
        untagged = self.untagged_ec2(ec2.describe_images, "Images", "ImageId", "image-id", recorded, tagged,
                                     Owners=["self"])
        for image_id in self.candidates(tagged, untagged):
            self.delete(image_id, partial(ec2.deregister_image, ImageId=image_id))

    def vpcs(self) -> None:
        if not self._has_ec2():
            return
        ec2 = self.client("ec2")
        tagged = [vpc["VpcId"] for vpc in ec2.describe_vpcs(Filters=self.tag_filter())["Vpcs"]]
        untagged = self.untagged_ec2(ec2.describe_vpcs, "Vpcs", "VpcId", "vpc-id", self.recorded("vpc"), tagged)
        for vpc_id in self.candidates(tagged, untagged):
            in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
            groups = [g for g in ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]
                      if g["GroupName"] != "default"]
            for group in groups:
                # Rules naming other groups would block their deletion: drop every rule first.
                if group.get("IpPermissions"):
                    ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=group["IpPermissions"])
                if group.get("IpPermissionsEgress"):
                    ec2.revoke_security_group_egress(GroupId=group["GroupId"],
                                                     IpPermissions=group["IpPermissionsEgress"])
            for group in groups:
                group_id = group["GroupId"]
                self.delete(group_id, partial(ec2.delete_security_group, GroupId=group_id), wait_dependencies=True)
            for subnet in ec2.describe_subnets(Filters=in_vpc)["Subnets"]:
                subnet_id = subnet["SubnetId"]
                self.delete(subnet_id, partial(ec2.delete_subnet, SubnetId=subnet_id), wait_dependencies=True)
            for acl in ec2.describe_network_acls(Filters=in_vpc)["NetworkAcls"]:
                if not acl.get("IsDefault"):
                    acl_id = acl["NetworkAclId"]
                    self.delete(acl_id, partial(ec2.delete_network_acl, NetworkAclId=acl_id))
            self.delete(vpc_id, partial(ec2.delete_vpc, VpcId=vpc_id), wait_dependencies=True)

    def _has_ec2(self) -> bool:
        return any(d.get("kind") in ("vpc", "subnet", "security_group", "instance")
                   for d in self.env.resources.values()) or bool(self.env.support)

    # ------------------------------------------------------------------ IAM

    def _iam_names(self, kind: str, key: str, lister: str, result_key: str, name_key: str) -> list[str]:
        recorded = self.recorded(kind, key)
        if not recorded:
            return []
        # Anything else the run named after itself (e.g. the responder's identity) goes too.
        named = [item[name_key] for page in self.client("iam").get_paginator(lister).paginate()
                 for item in page[result_key] if item[name_key].startswith(self.prefix)]
        return list(dict.fromkeys([*recorded, *named]))

    def _iam_split(self, names: list[str], list_tags: Callable[[str], list[dict[str, str]]]
                   ) -> tuple[list[str], list[str]]:
        """(tagged with the run, existing without the tag); names that no longer exist are in neither."""
        tagged: list[str] = []
        untagged: list[str] = []
        for name in names:
            try:
                tags = tag_dict(list_tags(name))
            except ClientError as exc:
                if _gone(exc.response["Error"]["Code"]):
                    continue
                raise
            (tagged if tags.get(RUN_TAG) == self.env.run_id else untagged).append(name)
        return tagged, untagged

    def users(self) -> None:
        iam = self.client("iam")
        names = self._iam_names("user", "user_name", "list_users", "Users", "UserName")
        tagged, untagged = self._iam_split(names, lambda n: iam.list_user_tags(UserName=n)["Tags"])
        recorded = set(self.recorded("user", "user_name"))
        for name in self.candidates(tagged, [name for name in untagged if name in recorded]):
            self.delete(name, partial(self._delete_user, name))

    def _delete_user(self, name: str) -> None:
        iam = self.client("iam")
        for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        try:
            iam.delete_login_profile(UserName=name)
        except ClientError as exc:
            if not _gone(exc.response["Error"]["Code"]):
                raise
        for policy in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
            iam.detach_user_policy(UserName=name, PolicyArn=policy["PolicyArn"])
        for policy_name in iam.list_user_policies(UserName=name)["PolicyNames"]:
            iam.delete_user_policy(UserName=name, PolicyName=policy_name)
        for group in iam.list_groups_for_user(UserName=name)["Groups"]:
            iam.remove_user_from_group(UserName=name, GroupName=group["GroupName"])
        iam.delete_user(UserName=name)

    def roles(self) -> None:
        iam = self.client("iam")
        names = self._iam_names("role", "role_name", "list_roles", "Roles", "RoleName")
        tagged, untagged = self._iam_split(names, lambda n: iam.list_role_tags(RoleName=n)["Tags"])
        recorded = set(self.recorded("role", "role_name"))
        for name in self.candidates(tagged, [name for name in untagged if name in recorded]):
            self.delete(name, partial(self._delete_role, name))

    def _delete_role(self, name: str) -> None:
        iam = self.client("iam")
        for profile in iam.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]:
            iam.remove_role_from_instance_profile(InstanceProfileName=profile["InstanceProfileName"], RoleName=name)
            if profile["InstanceProfileName"].startswith(self.prefix):
                iam.delete_instance_profile(InstanceProfileName=profile["InstanceProfileName"])
        for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
        for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
        iam.delete_role(RoleName=name)

    # ------------------------------------------------------------------ S3 and SNS

    def buckets(self) -> None:
        recorded = self.recorded("bucket", "bucket_name")
        if not recorded:
            return
        s3 = self.client("s3")
        tagged: list[str] = []
        untagged: list[str] = []
        for name in recorded:
            try:
                tags = tag_dict(s3.get_bucket_tagging(Bucket=name)["TagSet"])
            except ClientError as exc:
                code = exc.response["Error"]["Code"]
                if code == "NoSuchBucket":
                    continue
                if code != "NoSuchTagSet":
                    raise
                tags = {}
            (tagged if tags.get(RUN_TAG) == self.env.run_id else untagged).append(name)
        for name in self.candidates(tagged, untagged):
            self.delete(name, partial(self._delete_bucket, name))

    def _delete_bucket(self, name: str) -> None:
        s3 = self.client("s3")
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                      for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]]
            if doomed:
                s3.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})
        s3.delete_bucket(Bucket=name)

    def topics(self) -> None:
        recorded = self.recorded("topic", "arn")
        if not recorded:
            return
        sns = self.client("sns")
        tagged: list[str] = []
        untagged: list[str] = []
        for arn in recorded:
            try:
                tags = tag_dict(sns.list_tags_for_resource(ResourceArn=arn)["Tags"])
            except ClientError as exc:
                if _gone(exc.response["Error"]["Code"]):
                    continue
                raise
            (tagged if tags.get(RUN_TAG) == self.env.run_id else untagged).append(arn)
        for arn in self.candidates(tagged, untagged):
            self.delete(arn, partial(sns.delete_topic, TopicArn=arn))


def _gone(code: str) -> bool:
    return code.endswith(("NotFound", ".NotFound", "NotFoundException")) or code.startswith("NoSuch") or code in (
        "NotFound", "InvalidAllocationID.NotFound")


def _error_text(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
