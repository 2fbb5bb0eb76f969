"""Which resources a finding names: the caller's descriptor (contract 1), checked against the type, or
members of the synthetic fleet. sections.py turns the binding into the wire ``resource`` section.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from simulator.errors import InputError
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
