"""Which resources a finding names, and its wire ``resource`` section.

A binding either takes the caller's descriptor (contract 1) and checks it fits the finding type, or picks
members of the synthetic fleet. ``resource_section`` turns the binding into the wire section, and
``summarize`` reads the names that titles and actions mention back out of a wire section, so a finding
that arrives from elsewhere (aggregate_update) is described the same way as a freshly built one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from simulator.errors import InputError
from simulator.findings import ids, resources
from simulator.findings.fleet import FLEET_SIZE, Fleet
from simulator.findings.recipes import ApiSpec, K8sSpec, Recipe, ScanSpec
from simulator.findings.values import below, pick

# descriptor kind -> slot it fills
_SLOT = {"instance": "instance", "user": "principal", "role": "principal", "bucket": "bucket",
         "eks_cluster": "eks_cluster", "db_instance": "db", "function": "function", "ecs_cluster": "ecs_cluster",
         "container": "container"}

_RUNTIME_KINDS = {"instance": "Instance", "eks_cluster": "EKSCluster", "ecs_cluster": "ECSCluster",
                  "container": "Container"}

ACCEPTS: dict[str, frozenset[str]] = {
    "ec2-network": frozenset({"instance"}),
    "ec2-dns": frozenset({"instance"}),
    "ec2-port-probe": frozenset({"instance"}),
    "runtime-process": frozenset(_RUNTIME_KINDS),
    "runtime-network": frozenset(_RUNTIME_KINDS),
    "runtime-dns": frozenset(_RUNTIME_KINDS),
    "ebs-malware": frozenset({"instance", "eks_cluster", "ecs_cluster", "container"}),
    "backup-malware": frozenset({"instance"}),
    "iam-api": frozenset({"user", "role", "instance"}),
    "custom-detection": frozenset({"user", "role", "instance", "bucket"}),
    "s3-api": frozenset({"bucket", "user", "role", "instance"}),
    "s3-object-malware": frozenset({"bucket"}),
    "kubernetes-api": frozenset({"eks_cluster", "user", "role"}),
    "rds-login": frozenset({"db_instance"}),
    "lambda-network": frozenset({"function"}),
    "attack-sequence": frozenset({"user", "role", "instance", "bucket", "eks_cluster", "ecs_cluster"}),
}

_REQUIRED = {"instance": ("id",), "user": ("user_name",), "role": ("role_name",), "bucket": ("name",),
             "eks_cluster": ("name", "arn"), "db_instance": ("id", "arn"), "function": ("name", "arn"),
             "ecs_cluster": ("name", "arn"), "container": ("id", "name")}


@dataclass
class Binding:
    resource_type: str
    slots: dict[str, dict] = field(default_factory=dict)
    key: tuple | None = None  # fleet bindings are cacheable by key; bound descriptors are not


def _normalize(kind: str, descriptor: dict) -> dict:
    """Fill the aliases contract (1) allows (name/user_name/bucket_name) so later code reads one key."""
    filled = dict(descriptor)
    if kind == "user":
        filled.setdefault("user_name", filled.get("name"))
    elif kind == "role":
        filled.setdefault("role_name", filled.get("name"))
    elif kind == "bucket":
        filled["name"] = filled.get("bucket_name") or filled.get("name") or filled.get("id")
    return filled


def bind_descriptor(recipe: Recipe, descriptor: dict) -> Binding:
    if not isinstance(descriptor, dict):
        raise InputError("the resource to bind must be a descriptor mapping", field="resource",
                         fix="pass the descriptor simulator.provision produced")
    kind = descriptor.get("kind")
    accepted = ACCEPTS[recipe.family]
    if kind not in accepted:
        raise InputError(f"a {kind or 'kind-less'} resource cannot be the subject of {recipe.type_name} findings",
                         field="resource.kind", fix=f"bind one of: {', '.join(sorted(accepted))}")
    descriptor = _normalize(kind, descriptor)
    for key in _REQUIRED[kind]:
        if not descriptor.get(key):
            raise InputError(f"the {kind} descriptor has no {key!r}", field=f"resource.{key}",
                             fix="pass the descriptor simulator.provision produced")
    spec = recipe.spec
    if recipe.family == "iam-api" and isinstance(spec, ApiSpec):
        if spec.principal in ("root", "short-root"):
            raise InputError(f"{recipe.type_name} names the account's root user, not a provisioned resource",
                             field="resource", fix="generate it without a resource")
        if spec.principal == "instance-role" and kind == "user":
            raise InputError(f"{recipe.type_name} names an instance's role credentials, not an IAM user",
                             field="resource.kind", fix="bind the instance (or its role)")
    slot = _SLOT[kind]
    if recipe.family in ("iam-api", "s3-api") and kind == "instance":
        slot = "principal"  # the instance's role credentials made the call
    if recipe.family == "custom-detection" and kind in ("instance", "bucket"):
        slot = "affected"
    if recipe.family == "attack-sequence":
        slot = "actor" if kind in ("user", "role") else "target"
    resource_type = recipe.resource_types[0]
    if recipe.family.startswith("runtime-"):
        resource_type = _RUNTIME_KINDS[kind]
    elif recipe.family == "ebs-malware":
        wanted = {"Instance": ("instance",), "Container": ("instance", "container"), "ECSCluster": ("ecs_cluster",),
                  "EKSCluster": ("eks_cluster",)}[resource_type]
        if kind not in wanted:
            raise InputError(f"{recipe.type_name} scans a {resource_type}, not a {kind}", field="resource.kind",
                             fix=f"bind one of: {', '.join(wanted)}")
    elif recipe.family == "rds-login":
        resource_type = "RDSLimitlessDB" if descriptor.get("limitless") else "RDSDBInstance"
    return Binding(resource_type, {slot: descriptor})


def fleet_binding(recipe: Recipe, rng: random.Random) -> Binding:
    """Choose the resource type and fleet members; the key alone determines the section's content."""
    family = recipe.family
    resource_type = recipe.resource_types[0]
    if len(recipe.resource_types) > 1:
        if family == "rds-login":
            resource_type = "RDSLimitlessDB" if rng.random() < 0.2 else "RDSDBInstance"
        else:
            resource_type = pick(rng, recipe.resource_types)
    spec = recipe.spec
    variant: tuple = ()
    if family in ("iam-api", "custom-detection", "s3-api"):
        variant = (getattr(spec, "principal", "user"), getattr(spec, "bucket", ""))
    elif isinstance(spec, K8sSpec):
        variant = (spec.user, spec.workload, spec.namespace)
    elif isinstance(spec, ScanSpec):
        variant = (spec.target,)
    windows = recipe.type_name.endswith(("RDPBruteForce", "WinRMBruteForce"))
    # One fleet index names every member the section uses (instance i, user i, bucket i...), so a family
    # has FLEET_SIZE sections per variant and the section cache stays small and hot.
    key = (family.split("-")[0] if family.startswith(("ec2", "runtime")) else family, resource_type, variant,
           windows, below(rng, FLEET_SIZE))
    return Binding(resource_type, {}, key)


def fill_from_fleet(binding: Binding, recipe: Recipe, fleet: Fleet) -> dict[str, dict]:
    """The descriptors a fleet binding names (indices come from its key)."""
    assert binding.key is not None
    *_, windows, first = binding.key
    second = (first * 7 + 3) % FLEET_SIZE  # a different member of the second kind, fixed per index
    principal_kind = "role" if getattr(recipe.spec, "principal", "") == "resource-role" else "user"
    slots = {"instance": fleet.member("windows" if windows else "instance", first),
             "principal": fleet.member(principal_kind, second), "bucket": fleet.member("bucket", first),
             "eks_cluster": fleet.member("eks_cluster", first), "db": fleet.member("db_instance", first),
             "function": fleet.member("function", first), "ecs_cluster": fleet.member("ecs_cluster", first),
             "container": fleet.member("container", second)}
    if getattr(recipe.spec, "principal", "") == "instance-role":
        slots["principal"] = slots["instance"]
    return slots


# --- wire sections -------------------------------------------------------------------------------------


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
            return {"resourceType": "Lambda", "lambdaDetails": resources.lambda_details(self._slot(slots, "function", rng))}
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
