"""Findings bound to provisioned resources name their real ids (contract 1 descriptors)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from simulator.errors import InputError
from simulator.findings import generate_finding
from simulator.validate import validate_finding

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)

INSTANCE = {
    "kind": "instance", "name": "miner", "id": "i-0123456789abcdef0",
    "arn": "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0", "image_id": "ami-0abcdef1234567890",
    "instance_type": "t3.micro", "launch_time": "2025-04-30T08:00:00.000Z", "availability_zone": "us-east-1b",
    "vpc_id": "vpc-0aaaabbbbccccdddd", "subnet_id": "subnet-0aaaabbbbccccdddd", "private_ip": "10.0.1.23",
    "private_dns": "ip-10-0-1-23.ec2.internal", "public_ip": "3.91.2.4",
    "security_groups": [{"id": "sg-0aaaabbbbccccdddd", "name": "miner-sg"}],
    "network_interfaces": [
        {"id": "eni-0aaaabbbbccccdddd", "private_ip": "10.0.1.23", "private_dns": "ip-10-0-1-23.ec2.internal",
         "subnet_id": "subnet-0aaaabbbbccccdddd", "vpc_id": "vpc-0aaaabbbbccccdddd", "public_ip": "3.91.2.4",
         "security_groups": [{"id": "sg-0aaaabbbbccccdddd", "name": "miner-sg"}], "ipv6_addresses": []},
        {"id": "eni-0eeeeffff00001111", "private_ip": "10.0.2.7", "private_dns": "ip-10-0-2-7.ec2.internal",
         "subnet_id": "subnet-0eeeeffff00001111", "vpc_id": "vpc-0aaaabbbbccccdddd", "public_ip": None,
         "security_groups": [{"id": "sg-0aaaabbbbccccdddd", "name": "miner-sg"}],
         "ipv6_addresses": ["2600:1f18:1234:5678::10"]}],
    "instance_profile": {"arn": "arn:aws:iam::123456789012:instance-profile/miner-profile",
                         "id": "AIPAEXAMPLEPROFILE123", "name": "miner-profile", "role_name": "miner-role",
                         "role_arn": "arn:aws:iam::123456789012:role/miner-role"},
    "volumes": [{"id": "vol-0aaaabbbbccccdddd", "device": "/dev/xvda"}],
    "tags": {"Name": "miner", "gdsim:run": "run-1"},
}
USER = {"kind": "user", "name": "leaky", "id": "AIDAEXAMPLEUSERID0001", "arn": "arn:aws:iam::123456789012:user/leaky",
        "user_name": "leaky", "access_keys": [{"id": "AKIAEXAMPLEKEY000001"}], "console_password": True,
        "tags": {}}
ROLE = {"kind": "role", "name": "deployer", "id": "AROAEXAMPLEROLEID0001",
        "arn": "arn:aws:iam::123456789012:role/deployer", "role_name": "deployer", "instance_profile": None}
BUCKET = {"kind": "bucket", "name": "data", "id": "gdsim-run-1-data", "arn": "arn:aws:s3:::gdsim-run-1-data",
          "bucket_name": "gdsim-run-1-data", "tags": {"gdsim:run": "run-1"}}


def make(type_name: str, resource: dict, seed: int = 1) -> dict:
    finding = generate_finding(type_name, rng=random.Random(seed), resource=resource, now=NOW)
    assert validate_finding(finding) == []
    return finding


@pytest.mark.parametrize("type_name", ["CryptoCurrency:EC2/BitcoinTool.B!DNS", "UnauthorizedAccess:EC2/SSHBruteForce",
                                       "Recon:EC2/PortProbeUnprotectedPort", "Backdoor:EC2/C&CActivity.B"])
def test_instance_findings_name_the_provisioned_instance(type_name: str) -> None:
    finding = make(type_name, INSTANCE)
    details = finding["resource"]["instanceDetails"]
    assert details["instanceId"] == INSTANCE["id"]
    assert details["imageId"] == INSTANCE["image_id"]
    assert details["instanceType"] == "t3.micro"
    assert details["launchTime"] == INSTANCE["launch_time"]
    assert details["availabilityZone"] == "us-east-1b"
    assert details["iamInstanceProfile"] == {"arn": INSTANCE["instance_profile"]["arn"], "id": "AIPAEXAMPLEPROFILE123"}
    assert {"key": "Name", "value": "miner"} in details["tags"]
    enis = details["networkInterfaces"]
    assert [eni["networkInterfaceId"] for eni in enis] == ["eni-0aaaabbbbccccdddd", "eni-0eeeeffff00001111"]
    assert enis[0]["privateIpAddress"] == "10.0.1.23" and enis[0]["publicIp"] == "3.91.2.4"
    assert enis[0]["securityGroups"] == [{"groupName": "miner-sg", "groupId": "sg-0aaaabbbbccccdddd"}]
    assert enis[1]["ipv6Addresses"] == ["2600:1f18:1234:5678::10"] and "publicIp" not in enis[1]
    assert INSTANCE["id"] in finding["title"]
    action = finding["service"].get("action", {})
    for body in action.values():
        if isinstance(body, dict) and "localIpDetails" in body:
            assert body["localIpDetails"] == {"ipAddressV4": "10.0.1.23"}


def test_a_user_is_the_caller_of_iam_findings() -> None:
    finding = make("UnauthorizedAccess:IAMUser/MaliciousIPCaller", USER)
    assert finding["resource"]["accessKeyDetails"] == {"accessKeyId": "AKIAEXAMPLEKEY000001",
                                                        "principalId": "AIDAEXAMPLEUSERID0001",
                                                        "userType": "IAMUser", "userName": "leaky"}


def test_an_instance_role_is_the_caller_of_credential_exfiltration() -> None:
    finding = make("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", INSTANCE)
    key = finding["resource"]["accessKeyDetails"]
    assert key["userType"] == "AssumedRole" and key["userName"] == "miner-role"
    assert key["principalId"].endswith(f":{INSTANCE['id']}") and key["accessKeyId"].startswith("ASIA")


def test_a_role_is_an_assumed_role_caller() -> None:
    key = make("Discovery:IAMUser/AnomalousBehavior", ROLE)["resource"]["accessKeyDetails"]
    assert key["userType"] == "AssumedRole" and key["userName"] == "deployer"
    assert key["principalId"].startswith("AROAEXAMPLEROLEID0001:")


def test_s3_findings_name_the_bucket_and_the_caller() -> None:
    finding = make("Exfiltration:S3/MaliciousIPCaller", BUCKET)
    bucket = finding["resource"]["s3BucketDetails"][0]
    assert (bucket["name"], bucket["arn"]) == ("gdsim-run-1-data", "arn:aws:s3:::gdsim-run-1-data")
    assert {"key": "gdsim:run", "value": "run-1"} in bucket["tags"]
    call = finding["service"]["action"]["awsApiCallAction"]
    assert call["affectedResources"] == {"AWS::S3::Bucket": "gdsim-run-1-data"}
    assert make("Exfiltration:S3/MaliciousIPCaller", USER)["resource"]["accessKeyDetails"]["userName"] == "leaky"


def test_runtime_findings_bound_to_an_instance_are_about_the_instance() -> None:
    finding = make("Execution:Runtime/ReverseShell", INSTANCE)
    assert finding["resource"]["resourceType"] == "Instance"
    assert finding["resource"]["instanceDetails"]["instanceId"] == INSTANCE["id"]


def test_malware_scans_name_the_instance_volumes() -> None:
    finding = make("Execution:EC2/MaliciousFile", INSTANCE)
    volumes = finding["resource"]["ebsVolumeDetails"]["scannedVolumeDetails"]
    assert [volume["volumeArn"] for volume in volumes] == [
        "arn:aws:ec2:us-east-1:123456789012:volume/vol-0aaaabbbbccccdddd"]


def test_custom_detection_names_the_instance_acted_on() -> None:
    finding = make("CredentialAccess:EC2/UnsecuredCredentials", INSTANCE)
    call = finding["service"]["action"]["awsApiCallAction"]
    assert call["affectedResources"] == {"AWS::EC2::Instance": INSTANCE["id"]}
    assert finding["customDetectionRuleName"] == "EC2PasswordDataRetrieved"


def test_attack_sequences_name_the_bound_actor() -> None:
    finding = make("AttackSequence:IAM/CompromisedCredentials", USER)
    actor = finding["service"]["detection"]["sequence"]["actors"][0]
    assert actor["id"] == "IAMUser/leaky" and actor["user"]["credentialUid"] == "AKIAEXAMPLEKEY000001"


def test_ec2_launch_times_are_written_the_way_guardduty_writes_them() -> None:
    provisioned = {**INSTANCE, "launch_time": "2026-11-29T14:30:05+00:00",
                   "volumes": [{"id": "vol-0aaaabbbbccccdddd", "device": "/dev/xvda", "size_gb": None}]}
    finding = make("Execution:EC2/MaliciousFile", provisioned)
    assert finding["resource"]["instanceDetails"]["launchTime"] == "2026-11-29T14:30:05.000Z"
    assert finding["resource"]["ebsVolumeDetails"]["scannedVolumeDetails"][0]["volumeSizeInGB"] >= 8


def test_a_minimal_descriptor_still_binds() -> None:
    finding = make("Trojan:EC2/DropPoint", {"kind": "instance", "id": "i-0fedcba9876543210", "private_ip": "10.9.9.9"})
    details = finding["resource"]["instanceDetails"]
    assert details["instanceId"] == "i-0fedcba9876543210"
    assert details["networkInterfaces"][0]["privateIpAddress"] == "10.9.9.9"


@pytest.mark.parametrize(("type_name", "resource", "field"), [
    ("CryptoCurrency:EC2/BitcoinTool.B!DNS", USER, "resource.kind"),
    ("Recon:IAMUser/TorIPCaller", BUCKET, "resource.kind"),
    ("Policy:IAMUser/RootCredentialUsage", USER, "resource"),
    ("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS", USER, "resource.kind"),
    ("CryptoCurrency:EC2/BitcoinTool.B", {"kind": "instance", "name": "no-id"}, "resource.id"),
    ("CryptoCurrency:EC2/BitcoinTool.B", {"id": "i-0123"}, "resource.kind"),
    ("CryptoCurrency:EC2/BitcoinTool.B", ["i-0123"], "resource"),
])
def test_a_resource_that_does_not_fit_the_type_is_refused(type_name: str, resource: object, field: str) -> None:
    with pytest.raises(InputError) as refused:
        generate_finding(type_name, rng=random.Random(1), resource=resource, now=NOW)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert refused.value.fix


def test_the_descriptor_is_not_modified() -> None:
    before = repr(INSTANCE)
    make("Execution:Runtime/ReverseShell", INSTANCE)
    make("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", INSTANCE)
    assert repr(INSTANCE) == before
