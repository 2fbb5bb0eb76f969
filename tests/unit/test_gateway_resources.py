"""Resource ids a request names, and their CloudTrail types."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.gateway.resources import (
    NamedResource,
    created_resources,
    resource_ids,
    resources_named,
    type_of_arn,
    type_of_ec2_id,
)


@pytest.mark.parametrize(("service", "operation", "params", "expected"), [
    ("ec2", "ModifyInstanceAttribute", {"InstanceId": "i-0123456789abcdef0", "Groups": ["sg-0123456789abcdef0"]},
     ("i-0123456789abcdef0", "sg-0123456789abcdef0")),
    ("ec2", "ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": "eni-0123456789abcdef0",
                                                "Groups": ["sg-0123456789abcdef0"]},
     ("eni-0123456789abcdef0", "sg-0123456789abcdef0")),
    ("ec2", "CreateSnapshot", {"VolumeId": "vol-0123456789abcdef0", "TagSpecifications": [
        {"ResourceType": "snapshot", "Tags": [{"Key": "gdsim:finding-id", "Value": "i-0123456789abcdef1"}]}]},
     ("vol-0123456789abcdef0",)),
    ("ec2", "CreateTags", {"Resources": ["snap-0123456789abcdef0", "not-an-id"], "Tags": []},
     ("snap-0123456789abcdef0",)),
    ("ec2", "DescribeInstances", {"Filters": [{"Name": "instance-id", "Values": ["i-0123456789abcdef0"]}]}, ()),
    ("ec2", "DisassociateIamInstanceProfile", {"AssociationId": "iip-assoc-0123456789abcdef0"},
     ("iip-assoc-0123456789abcdef0",)),
    ("ec2", "AssociateIamInstanceProfile", {"InstanceId": "i-0123456789abcdef0",
                                            "IamInstanceProfile": {"Name": "ops"}},
     ("i-0123456789abcdef0", "ops")),
    ("iam", "UpdateAccessKey", {"UserName": "alice", "AccessKeyId": "AKIA0123456789ABCDEF", "Status": "Inactive"},
     ("alice", "AKIA0123456789ABCDEF")),
    ("iam", "PutRolePolicy", {"RoleName": "app", "PolicyName": "revoke-sessions", "PolicyDocument": "{}"},
     ("app",)),
    ("iam", "RemoveRoleFromInstanceProfile", {"InstanceProfileName": "ops", "RoleName": "app"}, ("ops", "app")),
    ("sns", "Publish", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:oncall", "Message": "i-0123456789abcdef0"},
     ("arn:aws:sns:us-east-1:123456789012:oncall",)),
    ("sqs", "SendMessage", {"QueueUrl": "http://127.0.0.1:1/123456789012/q", "MessageBody": "x"},
     ("http://127.0.0.1:1/123456789012/q",)),
    ("s3", "PutObject", {"Bucket": "evidence", "Key": "a"}, ("evidence",)),
    ("stepfunctions", "StartExecution", {"stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:s"},
     ("arn:aws:states:us-east-1:1:stateMachine:s",)),
    ("guardduty", "ArchiveFindings", {"DetectorId": "d1", "FindingIds": ["f1", "f2"]}, ("d1", "f1", "f2")),
    ("events", "PutEvents", {"Entries": [{"Resources": ["arn:aws:ec2:us-east-1:1:instance/i-1"]}]}, ()),
])
def test_resource_ids(service: str, operation: str, params: dict[str, Any], expected: tuple[str, ...]) -> None:
    assert resource_ids(service, operation, params) == expected


def test_each_resource_is_listed_once_with_its_type() -> None:
    named = resources_named("ec2", "StopInstances", {"InstanceIds": ["i-0123456789abcdef0", "i-0123456789abcdef0"]})
    assert named == (NamedResource("AWS::EC2::Instance", "i-0123456789abcdef0"),)


def test_group_name_means_a_security_group_in_ec2_and_a_group_in_iam() -> None:
    assert resources_named("ec2", "CreateSecurityGroup", {"GroupName": "iso"})[0].type == "AWS::EC2::SecurityGroup"
    assert resources_named("iam", "AddUserToGroup", {"GroupName": "ops"})[0].type == "AWS::IAM::Group"


@pytest.mark.parametrize(("value", "expected"), [
    ("i-0123456789abcdef0", "AWS::EC2::Instance"),
    ("i-12345678", "AWS::EC2::Instance"),
    ("iip-assoc-0123456789abcdef0", "AWS::EC2::IamInstanceProfileAssociation"),
    ("vpce-0123456789abcdef0", "AWS::EC2::VPCEndpoint"),
    ("sg-zzzz", None),
    ("alice", None),
])
def test_ec2_id_types(value: str, expected: str | None) -> None:
    assert type_of_ec2_id(value) == expected


@pytest.mark.parametrize(("arn", "expected"), [
    ("arn:aws:iam::123456789012:role/app", "AWS::IAM::Role"),
    ("arn:aws:iam::123456789012:instance-profile/ops", "AWS::IAM::InstanceProfile"),
    ("arn:aws:sns:us-east-1:123456789012:oncall", "AWS::SNS::Topic"),
    ("arn:aws:sns:us-east-1:123456789012:oncall:0b7a", "AWS::SNS::Subscription"),
    ("arn:aws:s3:::evidence", "AWS::S3::Bucket"),
    ("arn:aws:states:us-east-1:1:execution:s:run", "AWS::StepFunctions::Execution"),
    ("arn:aws:ec2:us-east-1:1:instance/i-1", "AWS::EC2::Instance"),
    ("arn:aws:xray:us-east-1:1:group/g", "AWS::XRAY::Resource"),
    ("not:an:arn", None),
])
def test_arn_types(arn: str, expected: str | None) -> None:
    assert type_of_arn(arn) == expected


def test_created_resources_come_from_successful_create_responses_only() -> None:
    xml = b"<RunInstancesResponse><instancesSet><item><instanceId>i-0123456789abcdef0</instanceId>" \
          b"<vpcId>vpc-0123456789abcdef0</vpcId></item></instancesSet></RunInstancesResponse>"
    assert created_resources("ec2", "RunInstances", 200, xml) == (
        NamedResource("AWS::EC2::Instance", "i-0123456789abcdef0"),)
    assert created_resources("ec2", "RunInstances", 400, xml) == ()
    assert created_resources("ec2", "DescribeInstances", 200, xml) == ()
    json_body = b'{"QueueUrl": "http://127.0.0.1:1/123456789012/q"}'
    assert created_resources("sqs", "CreateQueue", 200, json_body)[0].name == "http://127.0.0.1:1/123456789012/q"
