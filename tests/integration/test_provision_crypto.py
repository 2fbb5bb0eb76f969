"""Provisioning the crypto scenario on a real moto server: real ids, tags everywhere, a faithful inventory."""

from __future__ import annotations

import ipaddress
from typing import Any

import boto3
import pytest

from simulator.provision import NAME_TAG, RUN_TAG, ProvisionedEnvironment, provision, take_inventory
from simulator.provision.clients import client
from simulator.scenario import Scenario, load_scenario
from simulator.targets.base import Sandbox

pytestmark = pytest.mark.integration

RUN_ID = "gdsim-20260101T000000-c0de"


@pytest.fixture(scope="module")
def crypto() -> Scenario:
    return load_scenario("crypto")


@pytest.fixture(scope="module")
def env(sandbox: Sandbox, crypto: Scenario) -> ProvisionedEnvironment:
    return provision(crypto, sandbox, RUN_ID)


def tags_of(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in items or []}


def run_tags(name: str) -> dict[str, str]:
    return {RUN_TAG: RUN_ID, NAME_TAG: name}


def describe_instance(sandbox: Sandbox, instance_id: str) -> dict[str, Any]:
    reservations = client(sandbox, "ec2").describe_instances(InstanceIds=[instance_id])["Reservations"]
    return reservations[0]["Instances"][0]


# ---------------------------------------------------------------- descriptors


def test_every_logical_resource_has_a_descriptor(env: ProvisionedEnvironment, crypto: Scenario) -> None:
    expected = {item.name: kind for kind, item in crypto.environment.resources()}
    assert {name: d["kind"] for name, d in env.resources.items()} == expected
    assert env.run_id == RUN_ID
    assert env.bystander_names == {"neighbour", "batch-role", "deploy-user", "app-assets"}


def test_instance_descriptors_hold_the_real_ids(sandbox: Sandbox, env: ProvisionedEnvironment) -> None:
    miner = env.resources["miner"]
    live = describe_instance(sandbox, miner["id"])
    assert miner["id"].startswith("i-")
    assert miner["arn"] == f"arn:aws:ec2:{sandbox.region}:{sandbox.account_id}:instance/{miner['id']}"
    assert miner["subnet_id"] == live["SubnetId"] == env.resources["app-a"]["id"]
    assert miner["vpc_id"] == env.resources["sandbox-vpc"]["id"]
    assert miner["private_ip"] == live["PrivateIpAddress"]
    assert ipaddress.ip_address(miner["private_ip"]) in ipaddress.ip_network("10.20.1.0/24")
    assert miner["availability_zone"] == f"{sandbox.region}a"
    assert miner["image_id"] == live["ImageId"] == env.support[0]["id"]
    assert miner["public_ip"] is None
    assert [group["id"] for group in miner["security_groups"]] == [env.resources["web-sg"]["id"]]
    assert [nic["id"] for nic in miner["network_interfaces"]] == [
        nic["NetworkInterfaceId"] for nic in live["NetworkInterfaces"]]
    assert miner["network_interfaces"][0]["private_ip"] == miner["private_ip"]
    assert miner["network_interfaces"][0]["security_groups"] == miner["security_groups"]
    volumes = client(sandbox, "ec2").describe_volumes(VolumeIds=[v["id"] for v in miner["volumes"]])["Volumes"]
    assert sorted((v["Attachments"][0]["InstanceId"], v["Size"]) for v in volumes) == [
        (miner["id"], 8), (miner["id"], 20)]
    assert {(v["device"], v["root"], v["size_gb"]) for v in miner["volumes"]} == {
        (live["RootDeviceName"], True, 8), ("/dev/sdf", False, 20)}
    assert miner["tags"] == {"Service": "storefront", "Tier": "web", **run_tags("miner")}


def test_instances_run_with_their_role_s_instance_profile(sandbox: Sandbox, env: ProvisionedEnvironment) -> None:
    ec2 = client(sandbox, "ec2")
    for instance, role in (("miner", "web-role"), ("neighbour", "batch-role")):
        descriptor = env.resources[instance]
        association = ec2.describe_iam_instance_profile_associations(
            Filters=[{"Name": "instance-id", "Values": [descriptor["id"]]}])["IamInstanceProfileAssociations"]
        assert [a["IamInstanceProfile"]["Arn"] for a in association] == [env.resources[role]["instance_profile"]["arn"]]
        assert descriptor["instance_profile"]["role_arn"] == env.resources[role]["arn"]
        assert describe_instance(sandbox, descriptor["id"])["State"]["Name"] == "running"


def test_roles_carry_their_managed_policies(sandbox: Sandbox, env: ProvisionedEnvironment) -> None:
    iam = client(sandbox, "iam")
    role = env.resources["web-role"]
    attached = iam.list_attached_role_policies(RoleName=role["role_name"])["AttachedPolicies"]
    assert [policy["PolicyArn"] for policy in attached] == ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
    assert role["managed_policies"] == ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
    assert role["missing_managed_policies"] == []
    assert iam.get_role(RoleName=role["role_name"])["Role"]["RoleId"] == role["id"]


def test_users_get_working_keys_and_a_console_password(sandbox: Sandbox, env: ProvisionedEnvironment) -> None:
    user = env.resources["deploy-user"]
    iam = client(sandbox, "iam")
    keys = iam.list_access_keys(UserName=user["user_name"])["AccessKeyMetadata"]
    assert [key["AccessKeyId"] for key in keys] == [key["id"] for key in user["access_keys"]]
    assert iam.get_login_profile(UserName=user["user_name"])["LoginProfile"]["UserName"] == user["user_name"]
    assert user["console_password"] is True
    credentials = env.credentials_of("deploy-user")
    sts = boto3.client("sts", endpoint_url=sandbox.endpoint_url, region_name=sandbox.region,
                       aws_access_key_id=credentials.access_key_id,
                       aws_secret_access_key=credentials.secret_access_key)
    assert sts.get_caller_identity()["Arn"] == user["arn"]


def test_buckets_block_public_access_and_topics_exist(sandbox: Sandbox, env: ProvisionedEnvironment) -> None:
    bucket = env.resources["app-assets"]
    block = client(sandbox, "s3").get_public_access_block(Bucket=bucket["bucket_name"])
    assert all(block["PublicAccessBlockConfiguration"].values())
    assert bucket["arn"] == f"arn:aws:s3:::{bucket['bucket_name']}"
    arns = [topic["TopicArn"] for topic in client(sandbox, "sns").list_topics()["Topics"]]
    assert env.resources["ir-oncall"]["arn"] in arns and env.resources["pager"]["arn"] in arns


def test_references_resolve_to_the_real_values(env: ProvisionedEnvironment, crypto: Scenario) -> None:
    resolved = {key: env.resolve(value) for key, value in crypto.responder.environment.items()}
    assert resolved["ONCALL_TOPIC_ARN"] == env.resources["ir-oncall"]["arn"]
    assert resolved["PAGER_TOPIC_ARN"] == env.resources["pager"]["arn"]
    assert '"contact": "head-of-security"' in resolved["ESCALATION"]
    assert env.resolve("${miner.instance_profile.role_arn}") == env.resources["web-role"]["arn"]


# ---------------------------------------------------------------- tags


def test_every_resource_is_tagged_with_the_run_and_its_logical_name(sandbox: Sandbox,
                                                                     env: ProvisionedEnvironment) -> None:
    ec2, iam = client(sandbox, "ec2"), client(sandbox, "iam")
    r = env.resources
    seen: dict[str, dict[str, str]] = {}
    seen[r["sandbox-vpc"]["id"]] = tags_of(ec2.describe_vpcs(VpcIds=[r["sandbox-vpc"]["id"]])["Vpcs"][0]["Tags"])
    for subnet in ec2.describe_subnets(SubnetIds=[r["app-a"]["id"], r["app-b"]["id"]])["Subnets"]:
        seen[subnet["SubnetId"]] = tags_of(subnet["Tags"])
    seen[r["web-sg"]["id"]] = tags_of(ec2.describe_security_groups(GroupIds=[r["web-sg"]["id"]])["SecurityGroups"][0]
                                      .get("Tags"))
    owners = {}
    for name in ("miner", "neighbour"):
        instance = describe_instance(sandbox, r[name]["id"])
        seen[instance["InstanceId"]] = tags_of(instance["Tags"])
        owners.update({nic["id"]: name for nic in r[name]["network_interfaces"]})
        owners.update({volume["id"]: name for volume in r[name]["volumes"]})
    for nic in ec2.describe_network_interfaces(NetworkInterfaceIds=[i for i in owners if i.startswith("eni-")])[
            "NetworkInterfaces"]:
        seen[nic["NetworkInterfaceId"]] = tags_of(nic["TagSet"])
    for volume in ec2.describe_volumes(VolumeIds=[i for i in owners if i.startswith("vol-")])["Volumes"]:
        seen[volume["VolumeId"]] = {key: value for key, value in tags_of(volume["Tags"]).items()
                                    if key.startswith("gdsim:")}
    for role in ("web-role", "batch-role"):
        seen[role] = tags_of(iam.list_role_tags(RoleName=r[role]["role_name"])["Tags"])
        seen[f"{role} profile"] = tags_of(iam.get_instance_profile(
            InstanceProfileName=r[role]["instance_profile"]["name"])["InstanceProfile"]["Tags"])
    seen["deploy-user"] = tags_of(iam.list_user_tags(UserName=r["deploy-user"]["user_name"])["Tags"])
    seen["app-assets"] = tags_of(client(sandbox, "s3").get_bucket_tagging(Bucket=r["app-assets"]["bucket_name"])
                                 ["TagSet"])
    for topic in ("ir-oncall", "pager"):
        seen[topic] = tags_of(client(sandbox, "sns").list_tags_for_resource(ResourceArn=r[topic]["arn"])["Tags"])
    expected_owner = {r["sandbox-vpc"]["id"]: "sandbox-vpc", r["app-a"]["id"]: "app-a", r["app-b"]["id"]: "app-b",
                      r["web-sg"]["id"]: "web-sg", r["miner"]["id"]: "miner", r["neighbour"]["id"]: "neighbour",
                      **owners, "web-role": "web-role", "web-role profile": "web-role", "batch-role": "batch-role",
                      "batch-role profile": "batch-role", "deploy-user": "deploy-user", "app-assets": "app-assets",
                      "ir-oncall": "ir-oncall", "pager": "pager"}
    assert len(seen) == len(expected_owner) == 20
    for key, owner in expected_owner.items():
        assert {k: v for k, v in seen[key].items() if k.startswith("gdsim:")} == run_tags(owner), key


def test_nothing_tagged_with_the_run_is_unaccounted_for(sandbox: Sandbox, env: ProvisionedEnvironment) -> None:
    ec2 = client(sandbox, "ec2")
    by_run = [{"Name": f"tag:{RUN_TAG}", "Values": [RUN_ID]}]
    recorded = set().union(*(env.ids_of(name) for name in env.resources))
    tagged = {nic["NetworkInterfaceId"] for nic in ec2.describe_network_interfaces(Filters=by_run)["NetworkInterfaces"]}
    tagged |= {volume["VolumeId"] for volume in ec2.describe_volumes(Filters=by_run)["Volumes"]}
    tagged |= {group["GroupId"] for group in ec2.describe_security_groups(Filters=by_run)["SecurityGroups"]}
    tagged |= {subnet["SubnetId"] for subnet in ec2.describe_subnets(Filters=by_run)["Subnets"]}
    assert tagged and tagged <= recorded
    images = ec2.describe_images(Owners=["self"], Filters=by_run)["Images"]
    assert [image["ImageId"] for image in images] == [item["id"] for item in env.support]


# ---------------------------------------------------------------- inventory


def test_inventory_covers_every_resource_and_is_stable(sandbox: Sandbox, env: ProvisionedEnvironment) -> None:
    before = take_inventory(sandbox, env)
    r = env.resources
    expected = {r[name]["id"] for name in r} | {v["id"] for name in ("miner", "neighbour") for v in r[name]["volumes"]}
    assert set(before) == expected
    miner = before[r["miner"]["id"]]
    assert miner["state"] == "running"
    assert miner["instance_profiles"] == [r["web-role"]["instance_profile"]["arn"]]
    assert miner["network_interfaces"] == {r["miner"]["network_interfaces"][0]["id"]: [r["web-sg"]["id"]]}
    assert before[r["deploy-user"]["id"]]["access_keys"] == {r["deploy-user"]["access_keys"][0]["id"]: "Active"}
    assert before[r["deploy-user"]["id"]]["login_profile"] is True
    assert before[r["web-sg"]["id"]]["ingress"] == ["tcp:22-22 10.20.0.0/16", "tcp:443-443 0.0.0.0/0"]
    assert take_inventory(sandbox, env) == before


def test_inventory_sees_each_kind_of_change(sandbox: Sandbox, crypto: Scenario) -> None:
    env = provision(crypto, sandbox, "gdsim-20260101T000000-d1ff")
    r = env.resources
    ec2, iam = client(sandbox, "ec2"), client(sandbox, "iam")
    before = take_inventory(sandbox, env)

    data_volume = next(v["id"] for v in r["miner"]["volumes"] if not v["root"])
    ec2.create_snapshot(VolumeId=data_volume, Description="forensics")
    ec2.authorize_security_group_ingress(GroupId=r["web-sg"]["id"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    ec2.stop_instances(InstanceIds=[r["neighbour"]["id"]])
    iam.update_access_key(UserName=r["deploy-user"]["user_name"], AccessKeyId=r["deploy-user"]["access_keys"][0]["id"],
                          Status="Inactive")
    iam.put_role_policy(RoleName=r["web-role"]["role_name"], PolicyName="deny-old-sessions", PolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}'))
    client(sandbox, "s3").delete_public_access_block(Bucket=r["app-assets"]["bucket_name"])
    client(sandbox, "sns").subscribe(TopicArn=r["pager"]["arn"], Protocol="email", Endpoint="lead@example.com")

    after = take_inventory(sandbox, env)
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {data_volume, r["web-sg"]["id"], r["neighbour"]["id"], r["deploy-user"]["id"],
                       r["web-role"]["id"], r["app-assets"]["bucket_name"], r["pager"]["arn"]}
    assert len(after[data_volume]["snapshots"]) == 1
    assert after[r["neighbour"]["id"]]["state"] == "stopped"
    assert after[r["deploy-user"]["id"]]["access_keys"] == {r["deploy-user"]["access_keys"][0]["id"]: "Inactive"}
    assert after[r["web-role"]["id"]]["inline_policies"]["deny-old-sessions"]["Statement"][0]["Effect"] == "Deny"
    assert before[r["app-assets"]["bucket_name"]]["public_access_block"] is not None
    assert after[r["app-assets"]["bucket_name"]]["public_access_block"] is None
    assert after[r["pager"]["arn"]]["subscriptions"] == ["email:lead@example.com"]
