"""The finding's wire ``resource`` section: built from a binding's descriptors, and read back.

``summarize`` reads the names that titles and actions mention out of a wire section, so a finding that
arrives from elsewhere (aggregate_update) is described the same way as a freshly built one.
"""

from __future__ import annotations

import random

from simulator.findings import ids, resources
from simulator.findings.fleet import FLEET_SIZE, Fleet
from simulator.findings.recipes import ApiSpec, K8sSpec, Recipe
from simulator.findings.values import below, pick


class SectionBuilder:
    """Builds the wire resource section for a recipe and a filled binding."""

    def __init__(self, account: str, region: str, fleet: Fleet) -> None:
        self.account, self.region, self.fleet = account, region, fleet
        self.partition = ids.partition_of(region)

    def build(self, recipe: Recipe, resource_type: str, slots: dict[str, dict], rng: random.Random) -> dict:
        family = recipe.family
        if family == "attack-sequence":
            return {"resourceType": "AttackSequence"}
        if family in ("iam-api", "custom-detection"):
            return {"resourceType": "AccessKey", "accessKeyDetails": self._caller(recipe, slots, rng)}
        if family == "s3-api":
            spec = recipe.spec
            posture = spec.bucket if isinstance(spec, ApiSpec) and spec.bucket else "private"
            return {"resourceType": "S3Bucket", "accessKeyDetails": self._caller(recipe, slots, rng),
                    "s3BucketDetails": [resources.s3_bucket_detail(self._slot(slots, "bucket", rng), posture,
                                                                   self.region, self.account)]}
        if family == "kubernetes-api":
            return self._kubernetes(recipe, slots, rng)
        if family == "rds-login":
            return self._rds(resource_type, self._slot(slots, "db", rng), rng)
        if family == "lambda-network":
            function = self._slot(slots, "function", rng)
            return {"resourceType": "Lambda", "lambdaDetails": resources.lambda_details(function)}
        if family == "backup-malware":
            return self._backup(resource_type, slots, rng)
        if family == "s3-object-malware":
            return self._s3_object(self._slot(slots, "bucket", rng), rng)
        section = self._workload(resource_type, slots, rng)
        if family == "ebs-malware":
            host = slots.get("instance") or {}
            section["ebsVolumeDetails"] = resources.ebs_volume_details(host, rng, self.region, self.account)
        return section

    _FLEET_KIND = {"bucket": "bucket", "db": "db_instance", "function": "function", "principal": "user"}

    def _slot(self, slots: dict[str, dict], name: str, rng: random.Random) -> dict:
        """The bound or fleet descriptor for a slot; a bound finding borrows the members it was not given."""
        if name not in slots:
            slots[name] = self.fleet.member(self._FLEET_KIND[name], below(rng, FLEET_SIZE))
        return slots[name]

    def _caller(self, recipe: Recipe, slots: dict[str, dict], rng: random.Random) -> dict:
        principal_mode = getattr(recipe.spec, "principal", "user")
        if principal_mode in ("root", "short-root"):
            return resources.access_key_details({}, rng, self.account, root=True,
                                                temporary=principal_mode == "short-root")
        principal = slots.get("principal") or slots.get("actor") or self.fleet.member("user", below(rng, 24))
        if principal_mode == "resource-role" and principal.get("kind") == "role":
            principal = {**principal, "session_name": principal.get("session_name") or
                         f"{principal['role_name'].removesuffix('-role')}-{ids.hex_digits(rng, 6)}"}
        temporary = principal_mode in ("instance-role", "resource-role")
        return resources.access_key_details(principal, rng, self.account, temporary=temporary)

    def _kubernetes(self, recipe: Recipe, slots: dict[str, dict], rng: random.Random) -> dict:
        spec = recipe.spec
        assert isinstance(spec, K8sSpec)
        cluster = slots.get("eks_cluster") or self.fleet.member("eks_cluster", below(rng, 24))
        details: dict = {"kubernetesUserDetails": self._k8s_user(spec, slots.get("principal"), rng)}
        if spec.detail == "workload":
            namespace = spec.namespace or "default"
            details["kubernetesWorkloadDetails"] = self._pod(namespace, rng, workload=spec.workload)
        return {"resourceType": "EKSCluster", "eksClusterDetails": resources.eks_cluster_details(cluster),
                "kubernetesDetails": details}

    def _k8s_user(self, spec: K8sSpec, principal: dict | None, rng: random.Random) -> dict:
        if spec.user == "anonymous":
            return {"username": "system:anonymous", "groups": ["system:unauthenticated"]}
        if spec.user == "serviceaccount":
            namespace = spec.namespace or "default"
            name = pick(rng, self.fleet.pools.words)
            return {"username": f"system:serviceaccount:{namespace}:{name}", "uid": ids.rng_uuid(rng),
                    "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}",
                               "system:authenticated"]}
        principal = principal or self.fleet.member("user", below(rng, 24))
        if principal.get("kind") == "role":
            session = f"{principal['role_name']}-{ids.hex_digits(rng, 6)}"
            role_id = principal.get("id") or ids.stable_unique_id("AROA", principal["role_name"])
            return {"username": f"arn:{self.partition}:sts::{self.account}:assumed-role/{principal['role_name']}/"
                                f"{session}",
                    "uid": f"aws-iam-authenticator:{self.account}:{role_id}",
                    "groups": ["system:authenticated"], "sessionName": [session]}
        groups = ["system:masters", "system:authenticated"] if rng.random() < 0.4 else ["system:authenticated"]
        return {"username": principal["user_name"],
                "uid": f"aws-iam-authenticator:{self.account}:{principal.get('id') or 'AIDA'}", "groups": groups}

    def _pod(self, namespace: str, rng: random.Random, *, workload: str = "plain",
             container: dict | None = None) -> dict:
        app = pick(rng, self.fleet.pools.words)
        name = f"{app}-{ids.hex_digits(rng, 9)}-{ids.hex_digits(rng, 5)}"
        container = container or self.fleet.member("container", below(rng, 24))
        privileged = workload == "privileged"
        mounts: tuple = (("host-etc", "/host/etc"),) if workload == "sensitive-mount" else ()
        host_paths: tuple = (("host-etc", "/etc"),) if workload == "sensitive-mount" else ()
        wire_container = resources.container_details(container, privileged=privileged, mounts=mounts)
        return resources.workload_details(name, namespace, ids.rng_uuid(rng), [wire_container], kind="Pods",
                                          host_paths=host_paths, host_network=privileged)

    def _workload(self, resource_type: str, slots: dict[str, dict], rng: random.Random) -> dict:
        """Runtime and EBS-scan subjects: an instance, a container on a host, an EKS pod, an ECS task."""
        if resource_type == "Instance":
            instance = slots.get("instance") or self.fleet.member("instance", below(rng, 24))
            slots["instance"] = instance
            return {"resourceType": "Instance", "instanceDetails": resources.instance_details(instance, self.region)}
        container = slots.get("container") or self.fleet.member("container", below(rng, 24))
        wire_container = resources.container_details(container)
        if resource_type == "Container":
            host = slots.get("instance") or self.fleet.member("instance", below(rng, 24))
            slots["instance"] = host
            return {"resourceType": "Container", "containerDetails": wire_container,
                    "instanceDetails": resources.instance_details(host, self.region)}
        if resource_type == "EKSCluster":
            cluster = slots.get("eks_cluster") or self.fleet.member("eks_cluster", below(rng, 24))
            pod = self._pod(pick(rng, ("default", "prod", "payments", "web", "batch")), rng, container=container)
            return {"resourceType": "EKSCluster", "eksClusterDetails": resources.eks_cluster_details(cluster),
                    "kubernetesDetails": {"kubernetesWorkloadDetails": pod}, "containerDetails": wire_container}
        cluster = slots.get("ecs_cluster") or self.fleet.member("ecs_cluster", below(rng, 24))
        return {"resourceType": "ECSCluster",
                "ecsClusterDetails": resources.ecs_cluster_details(cluster, wire_container),
                "containerDetails": wire_container}

    def _rds(self, resource_type: str, db: dict, rng: random.Random) -> dict:
        user = {"user": db.get("db_user") or "app",
                "application": pick(rng, ("psql", "pgAdmin 4", "mysql", "DBeaver 24.0.2", "JDBC")),
                "database": db.get("database") or "postgres", "ssl": pick(rng, ("TLSv1.3", "TLSv1.2", "")),
                "authMethod": pick(rng, ("PASSWORD", "PASSWORD", "IAM"))}
        if not user["ssl"]:
            del user["ssl"]
        if resource_type == "RDSLimitlessDB":
            return {"resourceType": "RDSLimitlessDB",
                    "rdsLimitlessDbDetails": resources.rds_limitless_details(db, self.region, self.account),
                    "rdsDbUserDetails": user}
        return {"resourceType": "RDSDBInstance", "rdsDbInstanceDetails": resources.rds_instance_details(db),
                "rdsDbUserDetails": user}

    def _backup(self, resource_type: str, slots: dict[str, dict], rng: random.Random) -> dict:
        instance = slots.get("instance") or {}
        if resource_type == "EC2Image":
            image = instance.get("image_id") or ids.ec2_id("ami", rng)
            return {"resourceType": "EC2Image",
                    "ec2ImageDetails": {"imageArn": f"arn:{self.partition}:ec2:{self.region}::image/{image}"}}
        if resource_type == "EBSSnapshot":
            return {"resourceType": "EBSSnapshot", "ebsSnapshotDetails": {
                "snapshotArn": f"arn:{self.partition}:ec2:{self.region}::snapshot/{ids.ec2_id('snap', rng)}"}}
        vault = pick(rng, ("Default", f"{pick(rng, self.fleet.pools.words)}-backup-vault"))
        point = ids.rng_uuid(rng)
        return {"resourceType": "RecoveryPoint", "recoveryPointDetails": {
            "recoveryPointArn": f"arn:{self.partition}:backup:{self.region}:{self.account}:recovery-point:{point}",
            "backupVaultName": vault}}

    def _s3_object(self, bucket: dict, rng: random.Random) -> dict:
        detail = resources.s3_bucket_detail(bucket, "private", self.region, self.account)
        stem = pick(rng, self.fleet.pools.file_stems)
        key = f"{pick(rng, ('uploads', 'incoming', 'shared', 'tmp'))}/{ids.hex_digits(rng, 8)}/{stem}." + pick(
            rng, ("exe", "zip", "docm", "pdf", "js", "elf"))
        detail.pop("publicAccess", None)
        detail["s3ObjectDetails"] = [{"objectArn": f"{detail['arn']}/{key}", "key": key,
                                      "eTag": ids.hex_digits(rng, 32), "hash": ids.sha256_hex(rng),
                                      "versionId": ids.upper_alnum(rng, 32)}]
        return {"resourceType": "S3Object", "s3BucketDetails": [detail]}


# --- reading a wire section back ------------------------------------------------------------------------


def summarize(section: dict) -> dict[str, str]:
    """The names a finding's texts and actions mention, read from a wire resource section."""
    subject: dict[str, str] = {"resource_type": str(section.get("resourceType", ""))}
    instance = section.get("instanceDetails") or {}
    if instance:
        subject["instance_id"] = str(instance.get("instanceId", ""))
        enis = instance.get("networkInterfaces") or [{}]
        subject["private_ip"] = str(enis[0].get("privateIpAddress", ""))
        subject["platform"] = str(instance.get("platform") or "")
    key = section.get("accessKeyDetails") or {}
    if key:
        subject.update(user_name=str(key.get("userName", "")), access_key_id=str(key.get("accessKeyId", "")),
                       principal_id=str(key.get("principalId", "")), user_type=str(key.get("userType", "")))
    buckets = section.get("s3BucketDetails") or []
    if buckets:
        subject["bucket"] = str(buckets[0].get("name", ""))
        objects = buckets[0].get("s3ObjectDetails") or []
        if objects:
            subject["object_key"] = str(objects[0].get("key", ""))
    eks = section.get("eksClusterDetails") or {}
    if eks:
        subject["cluster"] = str(eks.get("name", ""))
    k8s = section.get("kubernetesDetails") or {}
    user = k8s.get("kubernetesUserDetails") or {}
    if user:
        subject["k8s_user"] = str(user.get("username", ""))
    workload = k8s.get("kubernetesWorkloadDetails") or {}
    if workload:
        subject.update(pod=str(workload.get("name", "")), namespace=str(workload.get("namespace", "")))
    ecs = section.get("ecsClusterDetails") or {}
    if ecs:
        subject["ecs_cluster"] = str(ecs.get("name", ""))
    container = section.get("containerDetails") or {}
    if container:
        subject.update(container=str(container.get("name", "")), image=str(container.get("image", "")))
    db = section.get("rdsDbInstanceDetails") or section.get("rdsLimitlessDbDetails") or {}
    if db:
        subject["db"] = str(db.get("dbInstanceIdentifier") or db.get("dbShardGroupIdentifier") or "")
    db_user = section.get("rdsDbUserDetails") or {}
    if db_user:
        subject.update(db_user=str(db_user.get("user", "")), db_application=str(db_user.get("application", "")))
    function = section.get("lambdaDetails") or {}
    if function:
        subject["function"] = str(function.get("functionName", ""))
    for wire_key, arn_key, name in (("ec2ImageDetails", "imageArn", "image_arn"),
                                    ("ebsSnapshotDetails", "snapshotArn", "snapshot_arn"),
                                    ("recoveryPointDetails", "recoveryPointArn", "recovery_point_arn")):
        if section.get(wire_key):
            subject[name] = str(section[wire_key].get(arn_key, ""))
    subject["label"] = _label(subject)
    return subject


def _label(subject: dict[str, str]) -> str:
    for key in ("instance_id", "function", "db", "pod", "container", "ecs_cluster", "cluster", "bucket",
                "user_name", "image_arn", "snapshot_arn", "recovery_point_arn"):
        if subject.get(key):
            return subject[key]
    return "the resource"
