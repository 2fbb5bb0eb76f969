"""The kinds of resource a scenario can build, what a ``${name.attr}`` reference may name on each,
and which kinds a finding type can be bound to."""

from __future__ import annotations

from simulator.catalog import FindingType

# environment key -> resource kind (the descriptor's "kind")
SECTIONS: dict[str, str] = {
    "vpc": "vpc",
    "subnets": "subnet",
    "security_groups": "security_group",
    "roles": "role",
    "instances": "instance",
    "users": "user",
    "buckets": "bucket",
    "topics": "topic",
}

_COMMON = ("name", "id", "arn")

# Top-level descriptor attributes a reference may name, per kind (nested ones use dots:
# ${miner.instance_profile.role_arn}).
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "vpc": (*_COMMON, "cidr"),
    "subnet": (*_COMMON, "cidr", "vpc_id", "availability_zone"),
    "security_group": (*_COMMON, "group_name", "vpc_id"),
    "role": (*_COMMON, "role_name", "instance_profile"),
    "instance": (*_COMMON, "image_id", "instance_type", "launch_time", "availability_zone", "vpc_id",
                 "subnet_id", "private_ip", "private_dns", "public_ip", "instance_profile"),
    "user": (*_COMMON, "user_name"),
    "bucket": (*_COMMON, "bucket_name"),
    "topic": (*_COMMON, "topic_name"),
}

# ${...} references that name no resource: the run and the sandbox around it.
BUILTIN_REFERENCES: dict[str, str] = {
    "run_id": "the run id every resource is tagged with",
    "account_id": "the sandbox account",
    "region": "the sandbox region",
    "escalation": "the escalation path as JSON: {topic_arn, levels: [{level, contact, after_seconds}]}",
}

# catalog resource type -> the kinds a finding of that type can name
_BY_RESOURCE_TYPE: dict[str, tuple[str, ...]] = {
    "Instance": ("instance",),
    "AccessKey": ("user", "role"),
    "S3Bucket": ("bucket",),
    "S3Object": ("bucket",),
}
# where the catalog documents no resource type: the type name's ResourceTypeAffected part
_BY_FAMILY: dict[str, tuple[str, ...]] = {
    "EC2": ("instance",),
    "Runtime": ("instance",),
    "IAMUser": ("user", "role"),
    "IAM": ("user", "role"),
    "S3": ("bucket",),
}


def names_root_user(finding_type: FindingType) -> bool:
    """Types about the account's root user: their findings name no resource a scenario builds."""
    return finding_type.resource_family == "IAMUser" and "RootCredentialUsage" in finding_type.name


def bindable_kinds(finding_type: FindingType) -> tuple[str, ...]:
    """The resource kinds a finding of this type may be bound to; empty when none can be built yet."""
    if names_root_user(finding_type):
        return ()
    if "InstanceCredentialExfiltration" in finding_type.name:
        # An instance's role credentials made the calls: the instance (or its role) is the subject, never a user.
        return ("instance", "role")
    kinds: list[str] = []
    for resource_type in finding_type.resource_types:
        for kind in _BY_RESOURCE_TYPE.get(resource_type, ()):
            if kind not in kinds:
                kinds.append(kind)
    if not kinds and (not finding_type.resource_types or finding_type.resource_types == ("AttackSequence",)):
        kinds.extend(_BY_FAMILY.get(finding_type.resource_family, ()))
    return tuple(kinds)
