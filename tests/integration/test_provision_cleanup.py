"""Never a half-built sandbox: a failed build is rolled back, and teardown removes only the run's resources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator import paths
from simulator.provision import RUN_TAG, ProvisionError, provision, take_inventory, teardown
from simulator.provision.clients import client
from simulator.scenario import Scenario, parse_scenario
from simulator.targets.base import Sandbox

pytestmark = pytest.mark.integration


def crypto_data() -> dict[str, Any]:
    return yaml.safe_load((paths.SCENARIOS_DIR / "crypto.yaml").read_text())


def scenario_from(data: dict[str, Any], tmp_path: Path) -> Scenario:
    path = tmp_path / "variant.yaml"
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), path)


def remaining(sandbox: Sandbox, run_id: str) -> dict[str, list[str]]:
    """Everything in the sandbox that belongs to the run, by tag or by the run's name prefix."""
    ec2, iam = client(sandbox, "ec2"), client(sandbox, "iam")
    by_run = [{"Name": f"tag:{RUN_TAG}", "Values": [run_id]}]
    prefix = f"{run_id}-"
    instances = [i["InstanceId"] for r in ec2.describe_instances(Filters=by_run)["Reservations"]
                 for i in r["Instances"] if i["State"]["Name"] != "terminated"]
    found = {
        "instances": instances,
        "vpcs": [v["VpcId"] for v in ec2.describe_vpcs(Filters=by_run)["Vpcs"]],
        "subnets": [s["SubnetId"] for s in ec2.describe_subnets(Filters=by_run)["Subnets"]],
        "security_groups": [g["GroupId"] for g in ec2.describe_security_groups(Filters=by_run)["SecurityGroups"]],
        "interfaces": [n["NetworkInterfaceId"] for n in ec2.describe_network_interfaces(Filters=by_run)[
            "NetworkInterfaces"] if (n.get("Attachment") or {}).get("DeviceIndex") != 0],
        "addresses": [a["AllocationId"] for a in ec2.describe_addresses(Filters=by_run)["Addresses"]],
        "images": [i["ImageId"] for i in ec2.describe_images(Owners=["self"], Filters=by_run)["Images"]],
        "roles": [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(prefix)],
        "profiles": [p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]
                     if p["InstanceProfileName"].startswith(prefix)],
        "users": [u["UserName"] for u in iam.list_users()["Users"] if u["UserName"].startswith(prefix)],
        "buckets": [b["Name"] for b in client(sandbox, "s3").list_buckets()["Buckets"]
                    if b["Name"].startswith(prefix.lower())],
        "topics": [t["TopicArn"] for t in client(sandbox, "sns").list_topics()["Topics"]
                   if t["TopicArn"].rsplit(":", 1)[1].startswith(prefix)],
    }
    return {kind: ids for kind, ids in found.items() if ids}


# ---------------------------------------------------------------- failed builds


def test_a_failure_while_building_rolls_everything_back(sandbox: Sandbox, tmp_path: Path) -> None:
    data = crypto_data()
    # An image that does not exist: the network, identities, bucket and topics are built by then.
    data["environment"]["instances"][1]["image"] = "ami-0000000000000dead"
    run_id = "gdsim-20260101T000000-fa11"
    with pytest.raises(ProvisionError) as caught:
        provision(scenario_from(data, tmp_path), sandbox, run_id)
    message = str(caught.value)
    assert message.startswith("provisioning crypto failed at machine image: no machine image ami-0000000000000dead ")
    assert "rolled back (deleted " in message and "left behind" not in message
    assert caught.value.exit_code == 2
    assert remaining(sandbox, run_id) == {}


def test_a_failure_after_the_instances_are_up_rolls_them_back_too(sandbox: Sandbox, tmp_path: Path) -> None:
    data = crypto_data()
    # IAM refuses a statement without resources; policies are applied last, after the instances exist.
    data["environment"]["roles"][0]["inline_policies"] = {
        "broken": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}}
    run_id = "gdsim-20260101T000000-fa12"
    with pytest.raises(ProvisionError, match="failed at policies: PutRolePolicy said MalformedPolicyDocument"):
        provision(scenario_from(data, tmp_path), sandbox, run_id)
    assert remaining(sandbox, run_id) == {}
    reservations = client(sandbox, "ec2").describe_instances(
        Filters=[{"Name": f"tag:{RUN_TAG}", "Values": [run_id]}])["Reservations"]
    states = {instance["State"]["Name"] for r in reservations for instance in r["Instances"]}
    assert states == {"terminated"}


def test_a_name_clash_leaves_the_other_owner_s_resource_alone(sandbox: Sandbox, tmp_path: Path) -> None:
    run_id = "gdsim-20260101T000000-fa13"
    iam = client(sandbox, "iam")
    # Someone else's untagged role already has the name the run wants.
    iam.create_role(RoleName=f"{run_id}-batch-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                               "Action": "sts:AssumeRole"}]}))
    with pytest.raises(ProvisionError, match="failed at role batch-role: CreateRole said EntityAlreadyExists"):
        provision(scenario_from(crypto_data(), tmp_path), sandbox, run_id)
    assert remaining(sandbox, run_id) == {"roles": [f"{run_id}-batch-role"]}


# ---------------------------------------------------------------- teardown


def test_teardown_removes_the_run_and_what_responders_added_inside_it(sandbox: Sandbox, tmp_path: Path) -> None:
    run_id = "gdsim-20260101T000000-7ea4"
    env = provision(scenario_from(crypto_data(), tmp_path), sandbox, run_id)
    ec2, iam = client(sandbox, "ec2"), client(sandbox, "iam")
    miner = env.resources["miner"]
    # What a responder leaves behind: an isolation group, snapshots, a deny policy, a deactivated key.
    isolation = ec2.create_security_group(GroupName="isolation", Description="quarantine",
                                          VpcId=miner["vpc_id"])["GroupId"]
    ec2.modify_instance_attribute(InstanceId=miner["id"], Groups=[isolation])
    snapshots = [ec2.create_snapshot(VolumeId=v["id"])["SnapshotId"] for v in miner["volumes"]]
    iam.put_role_policy(RoleName=env.resources["web-role"]["role_name"], PolicyName="revoke", PolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}'))
    user = env.resources["deploy-user"]
    iam.update_access_key(UserName=user["user_name"], AccessKeyId=user["access_keys"][0]["id"], Status="Inactive")

    result = teardown(env, sandbox)

    assert result.complete, result.summary()
    assert remaining(sandbox, run_id) == {}
    assert not ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [isolation]}])["SecurityGroups"]
    assert not ec2.describe_snapshots(Filters=[{"Name": "snapshot-id", "Values": snapshots}])["Snapshots"]
    assert teardown(env, sandbox).complete  # a second teardown finds nothing to do


def test_teardown_leaves_resources_without_the_run_tag_alone(sandbox: Sandbox, tmp_path: Path) -> None:
    run_id = "gdsim-20260101T000000-7ea5"
    env = provision(scenario_from(crypto_data(), tmp_path), sandbox, run_id)
    sns = client(sandbox, "sns")
    foreign = sns.create_topic(Name="someone-elses-topic")["TopicArn"]
    env.resources["foreign"] = {"kind": "topic", "name": "foreign", "id": foreign, "arn": foreign,
                                "topic_name": "someone-elses-topic"}

    result = teardown(env, sandbox)

    assert result.leftovers == [(foreign, f"not tagged {RUN_TAG}={run_id}; left alone")]
    assert foreign in [topic["TopicArn"] for topic in sns.list_topics()["Topics"]]
    assert remaining(sandbox, run_id) == {}


# ---------------------------------------------------------------- the less common parts of an environment

RICH = {
    "vpc": {"name": "vpc", "cidr": "10.40.0.0/16"},
    "subnets": [{"name": "public-a", "cidr": "10.40.0.0/24", "zone": "us-east-1b"}],
    "security_groups": [{"name": "locked", "ingress": [{"protocol": "tcp", "ports": "8000-8080", "cidr": "10.0.0.0/8"},
                                                       {"protocol": "icmp", "cidr": "10.40.0.0/16"}],
                         "egress": []}],
    "roles": [{"name": "app-role", "instance_profile": True,
               "inline_policies": {"read-data": {"Version": "2012-10-17", "Statement": [
                   {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "${data.arn}/*"}]}}}],
    "instances": [{"name": "bastion", "subnet": "public-a", "role": "app-role", "public_ip": True,
                   "extra_interfaces": 1, "instance_type": "t3.small", "root_size_gb": 16}],
    "users": [{"name": "ci", "access_keys": 2}],
    "buckets": [{"name": "data", "versioning": True, "block_public_access": False,
                 "objects": {"customers.csv": "id,name\n1,Ada\n"},
                 "policy": {"Version": "2012-10-17", "Statement": [
                     {"Effect": "Allow", "Principal": {"AWS": "${app-role.arn}"}, "Action": "s3:GetObject",
                      "Resource": "${data.arn}/*"}]}}],
    "topics": [{"name": "oncall"}],
}


def test_interfaces_addresses_keys_and_policies(sandbox: Sandbox, tmp_path: Path) -> None:
    data = crypto_data()
    data["environment"] = RICH
    data["findings"] = [{"type": "CryptoCurrency:EC2/BitcoinTool.B!DNS", "resource": "bastion"}]
    data["responder"]["environment"] = {"ONCALL_TOPIC_ARN": "${oncall.arn}"}
    data["steps"] = [{"id": "notify", "expect": {"kind": "notification_delivered", "topic": "oncall"},
                      "within": "5m"}]
    data["escalation"]["topic"] = "oncall"
    run_id = "gdsim-20260101T000000-a11b"
    env = provision(scenario_from(data, tmp_path), sandbox, run_id)
    ec2, iam, s3 = client(sandbox, "ec2"), client(sandbox, "iam"), client(sandbox, "s3")

    bastion = env.resources["bastion"]
    assert [nic["device_index"] for nic in bastion["network_interfaces"]] == [0, 1]
    assert bastion["public_ip"] == bastion["elastic_ip"]["public_ip"] == bastion["network_interfaces"][0]["public_ip"]
    assert bastion["availability_zone"] == "us-east-1b"
    assert bastion["instance_type"] == "t3.small"
    assert next(v["size_gb"] for v in bastion["volumes"] if v["root"]) == 16
    live = ec2.describe_network_interfaces(NetworkInterfaceIds=[n["id"] for n in bastion["network_interfaces"]])
    assert all(nic["TagSet"] for nic in live["NetworkInterfaces"])

    locked = ec2.describe_security_groups(GroupIds=[env.resources["locked"]["id"]])["SecurityGroups"][0]
    assert locked["IpPermissionsEgress"] == []
    assert sorted((p["IpProtocol"], p.get("FromPort"), p.get("ToPort")) for p in locked["IpPermissions"]) == [
        ("icmp", -1, -1), ("tcp", 8000, 8080)]

    assert len(env.resources["ci"]["access_keys"]) == 2
    assert env.credentials_of("ci", 1).access_key_id == env.resources["ci"]["access_keys"][1]["id"]
    bucket = env.resources["data"]["bucket_name"]
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": env.resources["app-role"]["arn"]}
    assert policy["Statement"][0]["Resource"] == f"arn:aws:s3:::{bucket}/*"
    assert s3.get_object(Bucket=bucket, Key="customers.csv")["Body"].read() == b"id,name\n1,Ada\n"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    role_policy = iam.get_role_policy(RoleName=env.resources["app-role"]["role_name"], PolicyName="read-data")
    assert role_policy["PolicyDocument"]["Statement"][0]["Resource"] == f"arn:aws:s3:::{bucket}/*"

    inventory = take_inventory(sandbox, env)
    assert inventory[bastion["id"]]["network_interfaces"].keys() == {n["id"] for n in bastion["network_interfaces"]}
    assert inventory[bucket]["public_access_block"] is None

    result = teardown(env, sandbox)
    assert result.complete, result.summary()
    assert remaining(sandbox, run_id) == {}
