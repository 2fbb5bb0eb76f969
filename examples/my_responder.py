"""An example team's own responder for crypto-mining findings on EC2, written with plain boto3.

It knows nothing about gdsim: it reads the GuardDuty finding from the EventBridge event, and boto3 sends its calls
wherever AWS_ENDPOINT_URL points (the real AWS API when it is unset). Runbook: tell the on-call, isolate the
instance, cut off its role's credentials, snapshot its volumes with the finding id, stop it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import boto3

FINDING_TAG = "gdsim:finding-id"  # the tag the runbook's forensics tooling looks snapshots up by


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    finding = event["detail"]
    finding_id = finding["id"]
    instance_id = finding["resource"]["instanceDetails"]["instanceId"]
    ec2, sns, iam = boto3.client("ec2"), boto3.client("sns"), boto3.client("iam")

    sns.publish(TopicArn=os.environ["ONCALL_TOPIC_ARN"], Subject=f"GuardDuty: {finding['type']} on {instance_id}",
                Message=json.dumps({"finding_id": finding_id, "type": finding["type"], "instance_id": instance_id,
                                    "severity": finding.get("severity")}))

    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    isolate(ec2, instance)
    revoke_role_sessions(ec2, iam, instance_id)
    for mapping in instance.get("BlockDeviceMappings", []):
        ec2.create_snapshot(
            VolumeId=mapping["Ebs"]["VolumeId"], Description=f"forensics for finding {finding_id}",
            TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": FINDING_TAG, "Value": finding_id}]}])
    ec2.stop_instances(InstanceIds=[instance_id])
    return {"finding_id": finding_id, "instance_id": instance_id, "status": "contained"}


def isolate(ec2: Any, instance: dict[str, Any]) -> None:
    """Move every network interface into a group with no rule at all (a new group allows all egress)."""
    group_id = ec2.create_security_group(
        GroupName=f"quarantine-{instance['InstanceId']}", Description="no traffic in or out",
        VpcId=instance["VpcId"])["GroupId"]
    ec2.revoke_security_group_egress(
        GroupId=group_id, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    for interface in instance["NetworkInterfaces"]:
        ec2.modify_network_interface_attribute(NetworkInterfaceId=interface["NetworkInterfaceId"], Groups=[group_id])


def revoke_role_sessions(ec2: Any, iam: Any, instance_id: str) -> None:
    """Detach the instance profile and deny every session its role issued until now."""
    associations = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [instance_id]}])["IamInstanceProfileAssociations"]
    cutoff = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    deny_older = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"DateLessThan": {"aws:TokenIssueTime": cutoff}}}]})
    for association in associations:
        profile_name = association["IamInstanceProfile"]["Arn"].rsplit("/", 1)[-1]
        ec2.disassociate_iam_instance_profile(AssociationId=association["AssociationId"])
        for role in iam.get_instance_profile(InstanceProfileName=profile_name)["InstanceProfile"]["Roles"]:
            iam.put_role_policy(RoleName=role["RoleName"], PolicyName="revoke-older-sessions",
                                PolicyDocument=deny_older)
