"""The finding's ``resource`` section in wire form, from resource descriptors (bound or synthetic).

Descriptors use contract (1)'s snake_case keys; missing optional keys are tolerated so a partially
described resource still binds. Member names and order follow botocore's ``Resource`` shape and the real
findings in tests/data/real_findings/.
"""

from __future__ import annotations

import random

from simulator.findings import ids
from simulator.findings.clock import epoch_seconds, iso_ms, parse_iso
from simulator.findings.synthetic import public_dns
from simulator.findings.values import below


def tags(mapping: dict | None) -> list[dict]:
    return [{"key": str(key), "value": str(value)} for key, value in (mapping or {}).items()]


def _groups(groups: list | None) -> list[dict]:
    return [{"groupName": group.get("name", ""), "groupId": group.get("id", "")} for group in groups or ()]


def _interface(eni: dict, region: str) -> dict:
    private_ip = eni.get("private_ip") or ""
    private_dns = eni.get("private_dns") or ""
    wire: dict = {"ipv6Addresses": list(eni.get("ipv6_addresses") or ()),
                  "networkInterfaceId": eni.get("id", ""), "privateDnsName": private_dns,
                  "privateIpAddress": private_ip,
                  "privateIpAddresses": [{"privateDnsName": private_dns, "privateIpAddress": private_ip}],
                  "subnetId": eni.get("subnet_id", ""), "vpcId": eni.get("vpc_id", ""),
                  "securityGroups": _groups(eni.get("security_groups"))}
    public_ip = eni.get("public_ip")
    if public_ip:
        wire["publicDnsName"] = eni.get("public_dns") or public_dns(public_ip, region)
        wire["publicIp"] = public_ip
    return wire


def _interfaces_of(instance: dict) -> list[dict]:
    enis = instance.get("network_interfaces")
    if enis:
        return list(enis)
    # A descriptor without ENIs still has its primary address: describe that one interface.
    return [{"id": "", "private_ip": instance.get("private_ip"), "private_dns": instance.get("private_dns"),
             "subnet_id": instance.get("subnet_id"), "vpc_id": instance.get("vpc_id"),
             "public_ip": instance.get("public_ip"), "security_groups": instance.get("security_groups"),
             "ipv6_addresses": []}]


def _guardduty_time(value: object) -> str:
    """An ISO-8601 time as GuardDuty writes it (2016-08-02T02:05:06.000Z); EC2's own form has an offset."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        return iso_ms(parse_iso(value))
    except ValueError:
        return value


def instance_details(instance: dict, region: str) -> dict:
    wire: dict = {"instanceId": instance["id"], "instanceType": instance.get("instance_type", "t3.micro"),
                  "launchTime": _guardduty_time(instance.get("launch_time")), "platform": instance.get("platform")}
    profile = instance.get("instance_profile")
    if profile:
        wire["iamInstanceProfile"] = {"arn": profile.get("arn", ""), "id": profile.get("id", "")}
    wire["networkInterfaces"] = [_interface(eni, region) for eni in _interfaces_of(instance)]
    wire["tags"] = tags(instance.get("tags"))
    wire["instanceState"] = instance.get("state", "running")
    wire["availabilityZone"] = instance.get("availability_zone") or f"{region}a"
    wire["imageId"] = instance.get("image_id", "")
    if instance.get("image_description"):
        wire["imageDescription"] = instance["image_description"]
    if not wire["launchTime"]:
        del wire["launchTime"]
    return wire


def access_key_details(principal: dict, rng: random.Random, account: str, *, root: bool = False,
                       temporary: bool = False) -> dict:
    """accessKeyDetails of the caller: an IAM user, an assumed role, an instance's role, or the root user."""
    if root:
        key = ids.access_key_id(rng, temporary=temporary)
        return {"accessKeyId": key, "principalId": account, "userType": "Root", "userName": "Root"}
    kind = principal.get("kind")
    if kind == "user":
        keys = principal.get("access_keys") or []
        key = keys[0]["id"] if keys and not temporary else ids.access_key_id(rng, temporary=True)
        return {"accessKeyId": key, "principalId": principal.get("id") or ids.stable_unique_id("AIDA", key),
                "userType": "IAMUser", "userName": principal.get("user_name") or principal.get("name", "")}
    if kind == "instance":
        profile = principal.get("instance_profile") or {}
        role_name = profile.get("role_name") or f"{principal.get('name', 'instance')}-role"
        role_id = ids.stable_unique_id("AROA", profile.get("role_arn") or role_name)
        return {"accessKeyId": ids.access_key_id(rng, temporary=True), "principalId": f"{role_id}:{principal['id']}",
                "userType": "AssumedRole", "userName": role_name}
    role_name = principal.get("role_name") or principal.get("name", "role")
    role_id = principal.get("id") or ids.stable_unique_id("AROA", role_name)
    session = principal.get("session_name") or f"session-{ids.hex_digits(rng, 8)}"
    return {"accessKeyId": ids.access_key_id(rng, temporary=True), "principalId": f"{role_id}:{session}",
            "userType": "AssumedRole", "userName": role_name}


_POSTURES = {
    # posture: (acl public read, policy public read, bucket BPA on, account BPA on, effective)
    "private": (False, False, True, True, "NOT_PUBLIC"),
    "public-policy": (False, True, False, False, "PUBLIC"),
    "public-acl": (True, False, False, False, "PUBLIC"),
    "bpa-off": (False, False, False, True, "NOT_PUBLIC"),
    "account-bpa-off": (False, False, True, False, "NOT_PUBLIC"),
}


def _bpa(enabled: bool) -> dict:
    return {"ignorePublicAcls": enabled, "restrictPublicBuckets": enabled, "blockPublicAcls": enabled,
            "blockPublicPolicy": enabled}


def s3_bucket_detail(bucket: dict, posture: str, region: str, account: str) -> dict:
    acl_public, policy_public, bucket_bpa, account_bpa, effective = _POSTURES[posture]
    name = bucket.get("bucket_name") or bucket.get("name") or bucket["id"]
    wire: dict = {"arn": bucket.get("arn") or f"arn:{ids.partition_of(region)}:s3:::{name}", "name": name,
                  "type": "Destination"}
    if bucket.get("created_ms"):
        wire["createdAt"] = epoch_seconds(bucket["created_ms"])
    wire["owner"] = {"id": bucket.get("owner_id") or ids.stable_uuid(f"owner:{account}").replace("-", "") * 2}
    wire["tags"] = tags(bucket.get("tags"))
    if bucket.get("kms"):
        wire["defaultServerSideEncryption"] = {
            "encryptionType": "aws:kms",
            "kmsMasterKeyArn": f"arn:{ids.partition_of(region)}:kms:{region}:{account}:key/{ids.stable_uuid(name)}"}
    else:
        wire["defaultServerSideEncryption"] = {"encryptionType": "AES256"}
    wire["publicAccess"] = {
        "permissionConfiguration": {
            "bucketLevelPermissions": {
                "accessControlList": {"allowsPublicReadAccess": acl_public, "allowsPublicWriteAccess": False},
                "bucketPolicy": {"allowsPublicReadAccess": policy_public, "allowsPublicWriteAccess": False},
                "blockPublicAccess": _bpa(bucket_bpa)},
            "accountLevelPermissions": {"blockPublicAccess": _bpa(account_bpa)}},
        "effectivePermission": effective}
    return wire


def eks_cluster_details(cluster: dict) -> dict:
    wire: dict = {"name": cluster["name"], "arn": cluster["arn"], "vpcId": cluster.get("vpc_id", ""),
                  "status": "ACTIVE", "tags": tags(cluster.get("tags"))}
    if cluster.get("created_ms"):
        wire["createdAt"] = epoch_seconds(cluster["created_ms"])
    return wire


def container_details(container: dict, *, privileged: bool = False, mounts: tuple = ()) -> dict:
    wire: dict = {"containerRuntime": container.get("runtime", "containerd"), "id": container["id"],
                  "name": container["name"], "image": container.get("image", ""),
                  "imagePrefix": container.get("image_prefix", "")}
    if mounts:
        wire["volumeMounts"] = [{"name": name, "mountPath": path} for name, path in mounts]
    wire["securityContext"] = {"privileged": privileged, "allowPrivilegeEscalation": privileged}
    return wire


def workload_details(name: str, namespace: str, uid: str, containers: list[dict], *, kind: str = "Pods",
                     host_paths: tuple = (), service_account: str = "default", host_network: bool = False) -> dict:
    wire: dict = {"name": name, "type": kind, "uid": uid, "namespace": namespace, "hostNetwork": host_network,
                  "serviceAccountName": service_account, "containers": containers}
    if host_paths:
        wire["volumes"] = [{"name": volume, "hostPath": {"path": path}} for volume, path in host_paths]
    return wire


def ecs_cluster_details(cluster: dict, container: dict) -> dict:
    task: dict = {"arn": cluster["task_arn"], "definitionArn": cluster["task_definition_arn"],
                  "version": cluster.get("task_version", "1")}
    if cluster.get("started_ms"):
        task["createdAt"] = epoch_seconds(cluster["started_ms"] - 4000)
        task["startedAt"] = epoch_seconds(cluster["started_ms"])
    task["startedBy"] = "ecs-svc/" + ids.stable_unique_id("", cluster["task_arn"])[:19]
    task["tags"] = []
    task["containers"] = [container]
    task["group"] = cluster.get("group", "")
    task["launchType"] = cluster.get("launch_type", "FARGATE")
    fargate = task["launchType"] == "FARGATE"
    return {"name": cluster["name"], "arn": cluster["arn"], "status": "ACTIVE",
            "activeServicesCount": cluster.get("services", 1),
            "registeredContainerInstancesCount": 0 if fargate else cluster.get("container_instances", 1),
            "runningTasksCount": cluster.get("tasks", 1), "tags": tags(cluster.get("tags")), "taskDetails": task}


def lambda_details(function: dict) -> dict:
    wire: dict = {"functionArn": function["arn"], "functionName": function["name"],
                  "description": function.get("description", "")}
    if function.get("modified_ms"):
        wire["lastModifiedAt"] = epoch_seconds(function["modified_ms"])
    wire["revisionId"] = function.get("revision_id", "")
    wire["functionVersion"] = function.get("version", "$LATEST")
    wire["role"] = function.get("role", "")
    vpc = function.get("vpc")
    if vpc:
        wire["vpcConfig"] = {"subnetIds": list(vpc.get("subnet_ids", ())), "vpcId": vpc.get("vpc_id", ""),
                             "securityGroups": _groups(vpc.get("security_groups"))}
    wire["tags"] = tags(function.get("tags"))
    return wire


def rds_instance_details(db: dict) -> dict:
    wire: dict = {"dbInstanceIdentifier": db["id"], "engine": db.get("engine", "postgres"),
                  "engineVersion": db.get("engine_version", "")}
    if db.get("cluster_id"):
        wire["dbClusterIdentifier"] = db["cluster_id"]
    wire["dbInstanceArn"] = db["arn"]
    wire["dbiResourceId"] = db.get("resource_id", "")
    wire["tags"] = tags(db.get("tags"))
    return wire


def rds_limitless_details(db: dict, region: str, account: str) -> dict:
    cluster = db.get("cluster_id") or db["id"]
    shard_group = db.get("shard_group") or f"{cluster}-shards"
    return {"dbShardGroupIdentifier": shard_group, "dbShardGroupResourceId": db.get("shard_group_resource_id", ""),
            "dbShardGroupArn": f"arn:{ids.partition_of(region)}:rds:{region}:{account}:shard-group:{shard_group}",
            "engine": "aurora-postgresql", "engineVersion": "16.4-limitless", "dbClusterIdentifier": cluster,
            "tags": tags(db.get("tags"))}


def ebs_volume_details(instance: dict, rng: random.Random, region: str, account: str) -> dict:
    partition = ids.partition_of(region)
    volumes = instance.get("volumes") or [{"id": ids.ec2_id("vol", rng), "device": "/dev/xvda"}]
    scanned = []
    for volume in volumes:
        scanned.append({"volumeArn": f"arn:{partition}:ec2:{region}:{account}:volume/{volume['id']}",
                        "volumeType": "gp3", "deviceName": volume.get("device", "/dev/xvda"),
                        "volumeSizeInGB": volume.get("size_gb") or 8 * (1 + below(rng, 8)),
                        "encryptionType": "UNENCRYPTED",
                        "snapshotArn": f"arn:{partition}:ec2:{region}:{account}:snapshot/{ids.ec2_id('snap', rng)}"})
    return {"scannedVolumeDetails": scanned, "skippedVolumeDetails": []}
