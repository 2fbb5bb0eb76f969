"""Each observer against a real moto server: False until the effect is made with boto3, True right after.

The state is built with boto3 directly, as a responder would leave it; half-done work must not pass.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simulator.errors import InputError
from simulator.observers import check_params, create_observer, registered_kinds
from simulator.observers.clients import sandbox_client
from simulator.provision.environment import ProvisionedEnvironment
from simulator.targets.base import Sandbox

pytestmark = pytest.mark.integration

FINDING_ID = "f" * 8 + uuid.uuid4().hex[:24]
OTHER_FINDING_ID = "e" * 32


@pytest.fixture(scope="module")
def network(sandbox: Sandbox) -> dict[str, str]:
    ec2 = sandbox_client(sandbox, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName="web-sg", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    return {"vpc": vpc, "subnet": subnet, "web": web}


def isolation_group(sandbox: Sandbox, network: dict[str, str], *, strip_egress: bool = True) -> str:
    ec2 = sandbox_client(sandbox, "ec2")
    group = ec2.create_security_group(GroupName=f"iso-{uuid.uuid4().hex[:8]}", Description="isolation",
                                      VpcId=network["vpc"])["GroupId"]
    if strip_egress:
        ec2.revoke_security_group_egress(GroupId=group, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    return group


def launch(sandbox: Sandbox, network: dict[str, str], *, interfaces: int = 2, volumes: int = 1,
           role: dict[str, str] | None = None) -> dict[str, Any]:
    """An instance as provisioning describes it (contract (1) descriptor)."""
    ec2 = sandbox_client(sandbox, "ec2")
    mappings = [{"DeviceName": f"/dev/sd{chr(ord('f') + i)}", "Ebs": {"VolumeSize": 8}} for i in range(volumes)]
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                 SubnetId=network["subnet"], SecurityGroupIds=[network["web"]],
                                 BlockDeviceMappings=mappings)["Instances"][0]
    instance_id = instance["InstanceId"]
    for index in range(1, interfaces):
        eni = ec2.create_network_interface(SubnetId=network["subnet"], Groups=[network["web"]])
        ec2.attach_network_interface(NetworkInterfaceId=eni["NetworkInterface"]["NetworkInterfaceId"],
                                     InstanceId=instance_id, DeviceIndex=index)
    profile = None
    if role:
        ec2.associate_iam_instance_profile(IamInstanceProfile={"Arn": role["profile_arn"]}, InstanceId=instance_id)
        profile = {"arn": role["profile_arn"], "id": "", "name": role["profile_name"],
                   "role_name": role["role_name"], "role_arn": role["role_arn"]}
    described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    attached = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}])
    return {
        "kind": "instance", "name": "miner", "id": instance_id,
        "arn": f"arn:aws:ec2:us-east-1:123456789012:instance/{instance_id}",
        "vpc_id": network["vpc"], "subnet_id": network["subnet"],
        "security_groups": [{"id": network["web"], "name": "web-sg"}],
        "network_interfaces": [{"id": nic["NetworkInterfaceId"], "security_groups": [{"id": network["web"]}]}
                               for nic in sorted(described["NetworkInterfaces"],
                                                 key=lambda n: n["Attachment"]["DeviceIndex"])],
        "volumes": [{"id": v["VolumeId"], "device": v["Attachments"][0]["Device"]} for v in attached["Volumes"]],
        "instance_profile": profile, "tags": {},
    }


def env_of(*descriptors: dict[str, Any]) -> ProvisionedEnvironment:
    return ProvisionedEnvironment(run_id="gdsim-test", account_id="123456789012", region="us-east-1",
                                  resources={d["name"]: d for d in descriptors})


def finding(**resource: Any) -> dict[str, Any]:
    return {"id": FINDING_ID, "type": "CryptoCurrency:EC2/BitcoinTool.B!DNS", "resource": resource}


def observer_for(kind: str, params: dict[str, str], env: ProvisionedEnvironment, sandbox: Sandbox,
                 the_finding: dict[str, Any] | None = None) -> Any:
    observer = create_observer(kind, params, env, the_finding or finding())
    observer.prepare(sandbox)
    return observer


def interface_ids(instance: dict[str, Any]) -> list[str]:
    return [nic["id"] for nic in instance["network_interfaces"]]


# ---------------------------------------------------------------- registry


def test_every_contract_kind_is_registered_with_its_parameters() -> None:
    kinds = registered_kinds()
    assert set(kinds) >= {  # the contract's kinds; runbooks register more
        "notification_delivered", "instance_quarantined", "volumes_snapshotted", "role_credentials_revoked",
        "access_key_deactivated", "console_password_removed", "escalation_paged", "instance_stopped",
    }
    assert check_params("role_credentials_revoked", {"role": "web-role"}) == []
    assert check_params("role_credentials_revoked", {"instance": "miner"}) == []
    assert check_params("instance_quarantined", {}) == ["instance_quarantined needs {instance}"]
    assert "does not take user" in check_params("instance_stopped", {"instance": "m", "user": "u"})[0]
    assert "unknown expectation kind 'instance_rebooted'" in check_params("instance_rebooted", {})[0]


def test_unknown_resource_is_a_located_input_error(sandbox: Sandbox) -> None:
    with pytest.raises(InputError, match="no resource named 'ghost'"):
        create_observer("instance_stopped", {"instance": "ghost"}, env_of(), finding())


# ---------------------------------------------------------------- instance_quarantined


def test_quarantine_of_every_interface_holds_although_moto_still_reports_the_old_group(
        sandbox: Sandbox, network: dict[str, str]) -> None:
    instance = launch(sandbox, network, interfaces=2)
    observer = observer_for("instance_quarantined", {"instance": "miner"}, env_of(instance), sandbox)
    iso = isolation_group(sandbox, network)
    ec2 = sandbox_client(sandbox, "ec2")
    assert observer.check(sandbox) is False

    first, second = interface_ids(instance)
    ec2.modify_network_interface_attribute(NetworkInterfaceId=first, Groups=[iso])
    assert observer.check(sandbox) is False, "one interface of two is not a quarantine"
    ec2.modify_network_interface_attribute(NetworkInterfaceId=second, Groups=[iso])
    # The emulator's quirk this observer reconciles: each interface still lists the instance's old group.
    reported = ec2.describe_network_interfaces(NetworkInterfaceIds=[second])["NetworkInterfaces"][0]["Groups"]
    assert {g["GroupId"] for g in reported} == {iso, network["web"]}
    assert observer.check(sandbox) is True
    assert {first, second, iso} <= observer.resource_ids


def test_instance_attribute_alone_does_not_quarantine_two_interfaces(
        sandbox: Sandbox, network: dict[str, str]) -> None:
    instance = launch(sandbox, network, interfaces=2)
    observer = observer_for("instance_quarantined", {"instance": "miner"}, env_of(instance), sandbox)
    iso = isolation_group(sandbox, network)
    sandbox_client(sandbox, "ec2").modify_instance_attribute(InstanceId=instance["id"], Groups=[iso])
    assert observer.check(sandbox) is False
    assert observer.detail == f"2 of 2 interfaces not isolated: {', '.join(interface_ids(instance))}"


def test_instance_attribute_quarantines_a_single_interface_instance_as_on_aws(
        sandbox: Sandbox, network: dict[str, str]) -> None:
    instance = launch(sandbox, network, interfaces=1)
    observer = observer_for("instance_quarantined", {"instance": "miner"}, env_of(instance), sandbox)
    iso = isolation_group(sandbox, network)
    assert observer.check(sandbox) is False
    sandbox_client(sandbox, "ec2").modify_instance_attribute(InstanceId=instance["id"], Groups=[iso])
    assert observer.check(sandbox) is True


def test_isolation_group_with_its_default_egress_rule_does_not_isolate(
        sandbox: Sandbox, network: dict[str, str]) -> None:
    instance = launch(sandbox, network, interfaces=2)
    observer = observer_for("instance_quarantined", {"instance": "miner"}, env_of(instance), sandbox)
    iso = isolation_group(sandbox, network, strip_egress=False)
    ec2 = sandbox_client(sandbox, "ec2")
    for eni in interface_ids(instance):
        ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=[iso])
    ec2.modify_instance_attribute(InstanceId=instance["id"], Groups=[iso])
    assert observer.check(sandbox) is False
    ec2.revoke_security_group_egress(GroupId=iso, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    assert observer.check(sandbox) is True


def test_quarantine_of_a_terminated_instance_never_holds(sandbox: Sandbox, network: dict[str, str]) -> None:
    instance = launch(sandbox, network, interfaces=1)
    observer = observer_for("instance_quarantined", {"instance": "miner"}, env_of(instance), sandbox)
    sandbox_client(sandbox, "ec2").terminate_instances(InstanceIds=[instance["id"]])
    assert observer.check(sandbox) is False
    assert "terminated" in (observer.detail or "")


# ---------------------------------------------------------------- volumes_snapshotted


def snapshot(sandbox: Sandbox, volume_id: str, finding_id: str) -> str:
    return str(sandbox_client(sandbox, "ec2").create_snapshot(VolumeId=volume_id, TagSpecifications=[
        {"ResourceType": "snapshot", "Tags": [{"Key": "gdsim:finding-id", "Value": finding_id}]}])["SnapshotId"])


def test_volumes_snapshotted_needs_every_attached_volume_tagged_with_the_finding(
        sandbox: Sandbox, network: dict[str, str]) -> None:
    instance = launch(sandbox, network, interfaces=1, volumes=2)
    volumes = [v["id"] for v in instance["volumes"]]
    assert len(volumes) == 2
    observer = observer_for("volumes_snapshotted", {"instance": "miner"}, env_of(instance), sandbox)
    assert observer.check(sandbox) is False

    snapshot(sandbox, volumes[0], OTHER_FINDING_ID)
    snapshot(sandbox, volumes[1], FINDING_ID)
    assert observer.check(sandbox) is False
    assert observer.detail == f"1 of 2 volumes snapshotted; missing {volumes[0]}"

    untagged = sandbox_client(sandbox, "ec2").create_snapshot(VolumeId=volumes[0])["SnapshotId"]
    assert observer.check(sandbox) is False
    sandbox_client(sandbox, "ec2").create_tags(Resources=[untagged],
                                               Tags=[{"Key": "gdsim:finding-id", "Value": FINDING_ID}])
    assert observer.check(sandbox) is True
    assert untagged in observer.resource_ids


def test_create_snapshots_of_the_instance_counts(sandbox: Sandbox, network: dict[str, str]) -> None:
    instance = launch(sandbox, network, interfaces=1, volumes=1)
    observer = observer_for("volumes_snapshotted", {"instance": "miner"}, env_of(instance), sandbox)
    assert observer.check(sandbox) is False
    sandbox_client(sandbox, "ec2").create_snapshots(
        InstanceSpecification={"InstanceId": instance["id"]},
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "gdsim:finding-id", "Value": FINDING_ID}]}])
    assert observer.check(sandbox) is True


# ---------------------------------------------------------------- instance_stopped


def test_instance_stopped_holds_once_stopped(sandbox: Sandbox, network: dict[str, str]) -> None:
    instance = launch(sandbox, network, interfaces=1)
    observer = observer_for("instance_stopped", {"instance": "miner"}, env_of(instance), sandbox)
    assert observer.check(sandbox) is False
    assert observer.detail == f"{instance['id']} is running"
    sandbox_client(sandbox, "ec2").stop_instances(InstanceIds=[instance["id"]])
    assert observer.check(sandbox) is True


def test_terminated_is_not_stopped_and_says_so(sandbox: Sandbox, network: dict[str, str]) -> None:
    instance = launch(sandbox, network, interfaces=1)
    observer = observer_for("instance_stopped", {"instance": "miner"}, env_of(instance), sandbox)
    sandbox_client(sandbox, "ec2").terminate_instances(InstanceIds=[instance["id"]])
    assert observer.check(sandbox) is False
    assert "terminated instead of stopped" in (observer.detail or "")


# ---------------------------------------------------------------- role_credentials_revoked


@pytest.fixture
def role(sandbox: Sandbox) -> dict[str, str]:
    iam = sandbox_client(sandbox, "iam")
    name = f"web-role-{uuid.uuid4().hex[:8]}"
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "ec2.amazonaws.com"}}]}
    created = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    profile = iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return {"role_name": name, "role_arn": created["Arn"], "profile_name": name, "profile_arn": profile["Arn"]}


def revoke_sessions(sandbox: Sandbox, role_name: str, before: datetime) -> None:
    document = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Action": ["*"], "Resource": ["*"],
        "Condition": {"DateLessThan": {"aws:TokenIssueTime": before.strftime("%Y-%m-%dT%H:%M:%SZ")}}}]}
    sandbox_client(sandbox, "iam").put_role_policy(RoleName=role_name, PolicyName="AWSRevokeOlderSessions",
                                                   PolicyDocument=json.dumps(document))


def test_role_revocation_needs_a_cutoff_at_or_after_injection(
        sandbox: Sandbox, network: dict[str, str], role: dict[str, str]) -> None:
    instance = launch(sandbox, network, interfaces=1, role=role)
    observer = observer_for("role_credentials_revoked", {"instance": "miner"}, env_of(instance), sandbox)
    assert observer.check(sandbox) is False
    revoke_sessions(sandbox, role["role_name"], datetime.now(UTC) - timedelta(hours=1))
    assert observer.check(sandbox) is False, "a cut-off before the finding leaves the attacker's token valid"
    revoke_sessions(sandbox, role["role_name"], datetime.now(UTC))
    assert observer.check(sandbox) is True


def test_role_revocation_by_attached_managed_policy(sandbox: Sandbox, role: dict[str, str]) -> None:
    env = env_of({"kind": "role", "name": "web-role", "id": "AROA", "arn": role["role_arn"],
                  "role_name": role["role_name"], "instance_profile": None})
    observer = observer_for("role_credentials_revoked", {"role": "web-role"}, env, sandbox)
    assert observer.check(sandbox) is False
    iam = sandbox_client(sandbox, "iam")
    document = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"DateLessThan": {"aws:TokenIssueTime": (datetime.now(UTC) + timedelta(seconds=5)).isoformat()}}}]}
    policy = iam.create_policy(PolicyName=f"revoke-{uuid.uuid4().hex[:6]}", PolicyDocument=json.dumps(document))
    assert observer.check(sandbox) is False
    iam.attach_role_policy(RoleName=role["role_name"], PolicyArn=policy["Policy"]["Arn"])
    assert observer.check(sandbox) is True


def test_role_revocation_by_removing_the_instance_profile(
        sandbox: Sandbox, network: dict[str, str], role: dict[str, str]) -> None:
    instance = launch(sandbox, network, interfaces=1, role=role)
    observer = observer_for("role_credentials_revoked", {"instance": "miner"}, env_of(instance), sandbox)
    ec2 = sandbox_client(sandbox, "ec2")
    associations = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [instance["id"]]}])["IamInstanceProfileAssociations"]
    assert observer.check(sandbox) is False
    assert associations[0]["AssociationId"] in observer.resource_ids
    ec2.disassociate_iam_instance_profile(AssociationId=associations[0]["AssociationId"])
    assert observer.check(sandbox) is True


# ---------------------------------------------------------------- access_key_deactivated, console_password_removed


@pytest.fixture
def user(sandbox: Sandbox) -> dict[str, Any]:
    iam = sandbox_client(sandbox, "iam")
    name = f"deploy-{uuid.uuid4().hex[:8]}"
    created = iam.create_user(UserName=name)["User"]
    keys = [iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"] for _ in range(2)]
    iam.create_login_profile(UserName=name, Password="Correct-Horse-9-Battery")
    return {"kind": "user", "name": "deploy-user", "id": created["UserId"], "arn": created["Arn"],
            "user_name": name, "access_keys": [{"id": key} for key in keys], "console_password": True, "tags": {}}


def test_the_key_the_finding_names_must_be_inactive(sandbox: Sandbox, user: dict[str, Any]) -> None:
    named, other = (key["id"] for key in user["access_keys"])
    the_finding = finding(accessKeyDetails={"accessKeyId": named, "userName": user["user_name"]})
    observer = observer_for("access_key_deactivated", {"user": "deploy-user"}, env_of(user), sandbox, the_finding)
    iam = sandbox_client(sandbox, "iam")
    assert observer.check(sandbox) is False
    iam.update_access_key(UserName=user["user_name"], AccessKeyId=other, Status="Inactive")
    assert observer.check(sandbox) is False
    iam.update_access_key(UserName=user["user_name"], AccessKeyId=named, Status="Inactive")
    assert observer.check(sandbox) is True


def test_without_a_named_key_every_key_counts_and_deletion_is_enough(sandbox: Sandbox, user: dict[str, Any]) -> None:
    first, second = (key["id"] for key in user["access_keys"])
    observer = observer_for("access_key_deactivated", {"user": "deploy-user"}, env_of(user), sandbox)
    iam = sandbox_client(sandbox, "iam")
    iam.delete_access_key(UserName=user["user_name"], AccessKeyId=first)
    assert observer.check(sandbox) is False
    assert observer.detail == f"still active: {second}"
    iam.delete_access_key(UserName=user["user_name"], AccessKeyId=second)
    assert observer.check(sandbox) is True


def test_console_password_removed(sandbox: Sandbox, user: dict[str, Any]) -> None:
    observer = observer_for("console_password_removed", {"user": "deploy-user"}, env_of(user), sandbox)
    assert observer.check(sandbox) is False
    sandbox_client(sandbox, "iam").delete_login_profile(UserName=user["user_name"])
    assert observer.check(sandbox) is True


# ---------------------------------------------------------------- notification_delivered, escalation_paged


@pytest.fixture
def topic(sandbox: Sandbox) -> dict[str, str]:
    name = f"ir-oncall-{uuid.uuid4().hex[:8]}"
    arn = sandbox_client(sandbox, "sns").create_topic(Name=name)["TopicArn"]
    return {"kind": "topic", "name": "ir-oncall", "id": arn, "arn": arn, "topic_name": name}


def test_notification_must_name_the_finding(sandbox: Sandbox, topic: dict[str, str]) -> None:
    observer = observer_for("notification_delivered", {"topic": "ir-oncall"}, env_of(topic), sandbox)
    sns = sandbox_client(sandbox, "sns")
    assert observer.check(sandbox) is False
    sns.publish(TopicArn=topic["arn"], Message=f"finding {OTHER_FINDING_ID} on i-0123")
    assert observer.check(sandbox) is False
    sns.publish(TopicArn=topic["arn"], Subject="GuardDuty", Message=json.dumps({"finding_id": FINDING_ID}))
    assert observer.check(sandbox) is True
    observer.cleanup(sandbox)
    assert observer.listener.queue_url is None


def test_escalation_page_of_the_right_level_and_finding(sandbox: Sandbox, topic: dict[str, str]) -> None:
    env = env_of({**topic, "name": "pager"})
    observer = observer_for("escalation_paged", {"level": "2", "topic": "pager"}, env, sandbox)
    sns = sandbox_client(sandbox, "sns")

    def page(level: int, finding_id: str) -> None:
        sns.publish(TopicArn=topic["arn"], Message=json.dumps({"level": level, "finding_id": finding_id}),
                    MessageAttributes={"level": {"DataType": "Number", "StringValue": str(level)}})

    page(1, FINDING_ID)
    assert observer.check(sandbox) is False
    assert observer.detail == "no level 2 page (levels paged: [1])"
    page(2, OTHER_FINDING_ID)
    assert observer.check(sandbox) is False, "a page about another finding does not count"
    # A plain-text page carries its level only as a message attribute.
    sns.publish(TopicArn=topic["arn"], Message=f"escalating {FINDING_ID}",
                MessageAttributes={"level": {"DataType": "Number", "StringValue": "2"}})
    assert observer.check(sandbox) is True


def test_escalation_topic_comes_from_the_scenario(sandbox: Sandbox, topic: dict[str, str]) -> None:
    from simulator.scenario import load_scenario

    scenario = load_scenario("crypto")
    env = env_of({**topic, "name": scenario.escalation.topic})
    observer = create_observer("escalation_paged", {"level": "1"}, env, finding(), scenario)
    assert observer.topic_arn == topic["arn"]
    with pytest.raises(InputError, match="not a whole number"):
        create_observer("escalation_paged", {"level": "high"}, env, finding(), scenario)
