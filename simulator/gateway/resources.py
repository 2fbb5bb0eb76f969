"""Which resources a request names: ids, names and ARNs, each with its CloudTrail resource type."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NamedResource:
    """A resource a call names; ``type`` is CloudTrail's ``ResourceType`` ("AWS::EC2::Instance")."""

    type: str
    name: str


# EC2 id prefixes (the part before the first '-') and their CloudTrail resource types.
_EC2_PREFIXES = {
    "i": "AWS::EC2::Instance",
    "sg": "AWS::EC2::SecurityGroup",
    "sgr": "AWS::EC2::SecurityGroupRule",
    "vol": "AWS::EC2::Volume",
    "snap": "AWS::EC2::Snapshot",
    "eni": "AWS::EC2::NetworkInterface",
    "vpc": "AWS::EC2::VPC",
    "vpce": "AWS::EC2::VPCEndpoint",
    "subnet": "AWS::EC2::Subnet",
    "ami": "AWS::EC2::Ami",
    "igw": "AWS::EC2::InternetGateway",
    "rtb": "AWS::EC2::RouteTable",
    "acl": "AWS::EC2::NetworkAcl",
    "eipalloc": "AWS::EC2::EIP",
    "eipassoc": "AWS::EC2::EIPAssociation",
    "nat": "AWS::EC2::NatGateway",
    "lt": "AWS::EC2::LaunchTemplate",
    "key": "AWS::EC2::KeyPair",
    "iip": "AWS::EC2::IamInstanceProfileAssociation",
    "dopt": "AWS::EC2::DHCPOptions",
    "fl": "AWS::EC2::FlowLog",
    "pcx": "AWS::EC2::VPCPeeringConnection",
    "tgw": "AWS::EC2::TransitGateway",
}
_EC2_ID = re.compile(r"^([a-z]+)-(?:assoc-)?[0-9a-f]{8,17}$")

# Parameter names (boto3 spelling) that name a resource of a known type, whatever the service.
_KEY_TYPES = {
    "InstanceId": "AWS::EC2::Instance",
    "InstanceIds": "AWS::EC2::Instance",
    "NetworkInterfaceId": "AWS::EC2::NetworkInterface",
    "NetworkInterfaceIds": "AWS::EC2::NetworkInterface",
    "GroupId": "AWS::EC2::SecurityGroup",
    "GroupIds": "AWS::EC2::SecurityGroup",
    "SecurityGroupIds": "AWS::EC2::SecurityGroup",
    "VolumeId": "AWS::EC2::Volume",
    "VolumeIds": "AWS::EC2::Volume",
    "SnapshotId": "AWS::EC2::Snapshot",
    "SnapshotIds": "AWS::EC2::Snapshot",
    "SourceSnapshotId": "AWS::EC2::Snapshot",
    "UserName": "AWS::IAM::User",
    "RoleName": "AWS::IAM::Role",
    "RoleArn": "AWS::IAM::Role",
    "AccessKeyId": "AWS::IAM::AccessKey",
    "InstanceProfileName": "AWS::IAM::InstanceProfile",
    "PolicyArn": "AWS::IAM::Policy",
    "TopicArn": "AWS::SNS::Topic",
    "SubscriptionArn": "AWS::SNS::Subscription",
    "QueueUrl": "AWS::SQS::Queue",
    "QueueName": "AWS::SQS::Queue",
    "Bucket": "AWS::S3::Bucket",
    "stateMachineArn": "AWS::StepFunctions::StateMachine",
    "executionArn": "AWS::StepFunctions::Execution",
    "FunctionName": "AWS::Lambda::Function",
    "AutoScalingGroupName": "AWS::AutoScaling::AutoScalingGroup",
    "DetectorId": "AWS::GuardDuty::Detector",
    "FindingIds": "AWS::GuardDuty::Finding",
    "SecretId": "AWS::SecretsManager::Secret",
    "LogGroupName": "AWS::Logs::LogGroup",
    "EventBusName": "AWS::Events::EventBus",
}

# Names whose meaning depends on the service.
_SERVICE_KEY_TYPES = {
    ("iam", "GroupName"): "AWS::IAM::Group",
    ("ec2", "GroupName"): "AWS::EC2::SecurityGroup",
    ("events", "Name"): "AWS::Events::Rule",
    ("events", "Rule"): "AWS::Events::Rule",
    ("sns", "Name"): "AWS::SNS::Topic",
    ("kms", "KeyId"): "AWS::KMS::Key",
    ("ec2", "KeyName"): "AWS::EC2::KeyPair",
    ("stepfunctions", "name"): "AWS::StepFunctions::StateMachine",
}

# Parameters that describe, filter or carry payloads rather than name a target.
_SKIPPED = frozenset({
    "Filters", "Filter", "TagSpecifications", "Tags", "Tagging", "MessageAttributes", "FindingCriteria",
    "SortCriteria", "LookupAttributes",
})
_SERVICE_SKIPPED = frozenset({("events", "Entries")})

# Other ``...Id``/``...Arn`` parameters count when their value is recognisably an id or an ARN.
_GENERIC_SUFFIXES = ("Id", "Ids", "Arn", "Arns", "ARN")

_ARN_TYPES = {
    ("iam", "user"): "AWS::IAM::User",
    ("iam", "role"): "AWS::IAM::Role",
    ("iam", "instance-profile"): "AWS::IAM::InstanceProfile",
    ("iam", "policy"): "AWS::IAM::Policy",
    ("iam", "group"): "AWS::IAM::Group",
    ("sts", "assumed-role"): "AWS::STS::AssumedRole",
    ("states", "stateMachine"): "AWS::StepFunctions::StateMachine",
    ("states", "execution"): "AWS::StepFunctions::Execution",
    ("lambda", "function"): "AWS::Lambda::Function",
    ("events", "rule"): "AWS::Events::Rule",
    ("events", "event-bus"): "AWS::Events::EventBus",
    ("guardduty", "detector"): "AWS::GuardDuty::Detector",
    ("kms", "key"): "AWS::KMS::Key",
    ("secretsmanager", "secret"): "AWS::SecretsManager::Secret",
    ("logs", "log-group"): "AWS::Logs::LogGroup",
    ("ec2", "instance"): "AWS::EC2::Instance",
    ("ec2", "security-group"): "AWS::EC2::SecurityGroup",
    ("ec2", "volume"): "AWS::EC2::Volume",
    ("ec2", "snapshot"): "AWS::EC2::Snapshot",
    ("ec2", "network-interface"): "AWS::EC2::NetworkInterface",
    ("ec2", "vpc"): "AWS::EC2::VPC",
    ("ec2", "subnet"): "AWS::EC2::Subnet",
}


def type_of_ec2_id(value: str) -> str | None:
    found = _EC2_ID.match(value)
    return _EC2_PREFIXES.get(found.group(1)) if found else None


def type_of_arn(value: str) -> str | None:
    """CloudTrail resource type of an ARN, or None if ``value`` is not an ARN."""
    parts = value.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None
    service, resource = parts[2], parts[5]
    if service == "sns":
        return "AWS::SNS::Subscription" if ":" in resource else "AWS::SNS::Topic"
    if service == "sqs":
        return "AWS::SQS::Queue"
    if service == "s3":
        return "AWS::S3::Object" if "/" in resource else "AWS::S3::Bucket"
    kind = re.split(r"[:/]", resource, maxsplit=1)[0]
    return _ARN_TYPES.get((service, kind), f"AWS::{service.upper()}::Resource")


def type_of_value(value: str) -> str | None:
    return type_of_ec2_id(value) or type_of_arn(value)


def resources_named(service: str, operation: str, params: Mapping[str, Any]) -> tuple[NamedResource, ...]:
    """Every resource ``params`` name, in order of appearance, without repeats."""
    seen: dict[tuple[str, str], None] = {}
    for found in _walk(service, params):
        seen.setdefault((found.type, found.name), None)
    return tuple(NamedResource(kind, name) for kind, name in seen)


def resource_ids(service: str, operation: str, params: Mapping[str, Any]) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for found in resources_named(service, operation, params):
        names.setdefault(found.name, None)
    return tuple(names)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value:
            yield value
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str) and item:
                yield item


def _walk(service: str, params: Any) -> Iterator[NamedResource]:
    if isinstance(params, list):
        for item in params:
            yield from _walk(service, item)
        return
    if not isinstance(params, Mapping):
        return
    for key, value in params.items():
        if key in _SKIPPED or (service, key) in _SERVICE_SKIPPED:
            continue
        known = _SERVICE_KEY_TYPES.get((service, key)) or _KEY_TYPES.get(key)
        if key == "IamInstanceProfile" and isinstance(value, Mapping):
            for name in _strings(value.get("Name")):
                yield NamedResource("AWS::IAM::InstanceProfile", name)
            for arn in _strings(value.get("Arn")):
                yield NamedResource("AWS::IAM::InstanceProfile", arn)
            continue
        if known:
            for name in _strings(value):
                yield NamedResource(known, name)
        elif key in ("Resources", "Groups") or key.endswith(_GENERIC_SUFFIXES):
            for name in _strings(value):
                kind = type_of_value(name)
                if kind:
                    yield NamedResource(kind, name)
        if isinstance(value, Mapping | list):
            yield from _walk(service, value)


# What a successful create call's response names (XML element or JSON key), for CloudTrail's Resources.
_CREATED = {
    ("ec2", "RunInstances"): ("instanceId",),
    ("ec2", "CreateSecurityGroup"): ("groupId",),
    ("ec2", "CreateSnapshot"): ("snapshotId",),
    ("ec2", "CreateSnapshots"): ("snapshotId",),
    ("ec2", "CopySnapshot"): ("snapshotId",),
    ("ec2", "CreateVolume"): ("volumeId",),
    ("ec2", "CreateNetworkInterface"): ("networkInterfaceId",),
    ("ec2", "CreateVpc"): ("vpcId",),
    ("ec2", "CreateSubnet"): ("subnetId",),
    ("ec2", "CreateImage"): ("imageId",),
    ("ec2", "AllocateAddress"): ("allocationId",),
    ("ec2", "AssociateIamInstanceProfile"): ("associationId",),
    ("ec2", "ReplaceIamInstanceProfileAssociation"): ("associationId",),
    ("iam", "CreateAccessKey"): ("AccessKeyId",),
    ("iam", "CreateUser"): ("Arn",),
    ("iam", "CreateRole"): ("Arn",),
    ("iam", "CreatePolicy"): ("Arn",),
    ("iam", "CreateInstanceProfile"): ("Arn",),
    ("sns", "CreateTopic"): ("TopicArn",),
    ("sns", "Subscribe"): ("SubscriptionArn",),
    ("sqs", "CreateQueue"): ("QueueUrl",),
    ("stepfunctions", "CreateStateMachine"): ("stateMachineArn",),
    ("stepfunctions", "StartExecution"): ("executionArn",),
    ("lambda", "CreateFunction"): ("FunctionArn",),
    ("events", "PutRule"): ("RuleArn",),
}
_CREATED_TYPES = {
    "instanceId": "AWS::EC2::Instance", "groupId": "AWS::EC2::SecurityGroup", "snapshotId": "AWS::EC2::Snapshot",
    "volumeId": "AWS::EC2::Volume", "networkInterfaceId": "AWS::EC2::NetworkInterface", "vpcId": "AWS::EC2::VPC",
    "subnetId": "AWS::EC2::Subnet", "imageId": "AWS::EC2::Ami", "allocationId": "AWS::EC2::EIP",
    "associationId": "AWS::EC2::IamInstanceProfileAssociation", "AccessKeyId": "AWS::IAM::AccessKey",
    "QueueUrl": "AWS::SQS::Queue",
}


def created_resources(service: str, operation: str, status: int, body: bytes) -> tuple[NamedResource, ...]:
    """Resources a successful create call's response names (a new instance, group, snapshot, key...)."""
    keys = _CREATED.get((service, operation))
    if not keys or not 200 <= status < 300 or not body:
        return ()
    text = body.decode("utf-8", "replace")
    found: dict[tuple[str, str], None] = {}
    for key in keys:
        pattern = rf"<{key}>([^<]+)</{key}>|\"{key}\"\s*:\s*\"([^\"]+)\""
        for xml_value, json_value in re.findall(pattern, text):
            value = xml_value or json_value
            kind = _CREATED_TYPES.get(key) or type_of_value(value) or "AWS::Resource"
            found.setdefault((kind, value), None)
    return tuple(NamedResource(kind, name) for kind, name in found)
