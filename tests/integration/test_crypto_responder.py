"""The reference crypto responder against a real moto server, run by the function runtime.

It must quarantine, revoke, snapshot, stop and notify; repeat deliveries change nothing; hostile
events are escalated with a reason and touch nothing.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import responder_calls as calls
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.delivery.runtime import FunctionRuntime
from simulator.targets.base import Credentials, Sandbox

pytestmark = pytest.mark.integration

REAL_EVENT = Path(__file__).resolve().parents[1] / "data" / "real_findings" / "Trojan_EC2__DropPoint.json"


sandbox = calls.light_sandbox  # this module's sandbox, in place of the shared one with managed policies


@dataclass
class World:
    sandbox: Sandbox
    instance_id: str
    bystander_id: str
    vpc_id: str
    role_name: str
    bystander_role: str
    profile_arn: str
    oncall_topic: str
    pager_topic: str
    oncall_queue: str
    pager_queue: str

    def client(self, service: str) -> Any:
        return calls.client_of(self.sandbox, service)


def _instance_with_role(sandbox: Sandbox, subnet: str, group: str, name: str) -> tuple[str, str, str]:
    iam = calls.client_of(sandbox, "iam")
    iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=calls.ASSUME_EC2)
    profile = iam.create_instance_profile(InstanceProfileName=f"{name}-profile")["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName=f"{name}-profile", RoleName=f"{name}-role")
    instance = calls.client_of(sandbox, "ec2").run_instances(
        ImageId="ami-12345678", MinCount=1, MaxCount=1, InstanceType="t3.large", SubnetId=subnet,
        SecurityGroupIds=[group], IamInstanceProfile={"Arn": profile["Arn"]},
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}},
                             {"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 20}}],
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}],
    )["Instances"][0]
    return instance["InstanceId"], f"{name}-role", profile["Arn"]


def build_world(sandbox: Sandbox) -> World:
    calls.reset(sandbox)
    ec2, sns = calls.client_of(sandbox, "ec2"), calls.client_of(sandbox, "sns")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName="web", Description="web tier", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    miner, role, profile_arn = _instance_with_role(sandbox, subnet, web, "miner")
    second_eni = ec2.create_network_interface(SubnetId=subnet, Groups=[web])["NetworkInterface"]
    ec2.attach_network_interface(NetworkInterfaceId=second_eni["NetworkInterfaceId"], InstanceId=miner,
                                 DeviceIndex=1)
    bystander, bystander_role, _ = _instance_with_role(sandbox, subnet, web, "bystander")
    oncall = sns.create_topic(Name="ir-oncall")["TopicArn"]
    pager = sns.create_topic(Name="ir-pager")["TopicArn"]
    return World(sandbox, miner, bystander, vpc, role, bystander_role, profile_arn, oncall, pager,
                 calls.subscribed_queue(sandbox, oncall, "oncall-inbox"),
                 calls.subscribed_queue(sandbox, pager, "pager-inbox"))


def crypto_event(world: World, *, count: int = 1, finding_id: str | None = None) -> dict[str, Any]:
    """A real GuardDuty event's shape, turned into a BitcoinTool.B!DNS finding on the world's miner."""
    event = json.loads(REAL_EVENT.read_text())
    event.update(id=str(uuid.uuid4()), account=calls.ACCOUNT, region=calls.REGION, time="2024-05-01T10:15:00Z")
    detail = event["detail"]
    finding_id = finding_id or uuid.uuid4().hex
    detail.update(id=finding_id, type="CryptoCurrency:EC2/BitcoinTool.B!DNS", severity=8, region=calls.REGION,
                  arn=f"arn:aws:guardduty:{calls.REGION}:{calls.ACCOUNT}:detector/d/finding/{finding_id}",
                  title=f"Bitcoin-related domain name queried by EC2 instance {world.instance_id}.")
    instance = world.client("ec2").describe_instances(InstanceIds=[world.instance_id])[
        "Reservations"][0]["Instances"][0]
    details = detail["resource"]["instanceDetails"]
    details.update(instanceId=world.instance_id, iamInstanceProfile={"arn": world.profile_arn, "id": "AIPA0"})
    details["networkInterfaces"][0]["networkInterfaceId"] = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    detail["service"]["action"] = {"actionType": "DNS_REQUEST",
                                   "dnsRequestAction": {"domain": "pool.minexmr.example", "protocol": "UDP"}}
    detail["service"]["count"] = count
    return event


def inventory(world: World) -> dict[str, Any]:
    """Everything a responder could change, in comparable form (the SNS/SQS inboxes aside)."""
    ec2, iam = world.client("ec2"), world.client("iam")
    instances = {}
    for reservation in ec2.describe_instances()["Reservations"]:
        for i in reservation["Instances"]:
            instances[i["InstanceId"]] = {
                "state": i["State"]["Name"],
                "groups": sorted(g["GroupId"] for g in i["SecurityGroups"]),
                "enis": sorted((n["NetworkInterfaceId"], tuple(sorted(g["GroupId"] for g in n["Groups"])))
                               for n in i["NetworkInterfaces"]),
                "tags": sorted((t["Key"], t["Value"]) for t in i.get("Tags", [])),
            }
    return {
        "instances": instances,
        "groups": {g["GroupId"]: (json.dumps(g["IpPermissions"], sort_keys=True),
                                  json.dumps(g["IpPermissionsEgress"], sort_keys=True))
                   for g in ec2.describe_security_groups()["SecurityGroups"]},
        "snapshots": sorted(s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]),
        "associations": sorted(a["AssociationId"] for a in ec2.describe_iam_instance_profile_associations()[
            "IamInstanceProfileAssociations"] if a["State"] == "associated"),
        "role_policies": {role: iam.list_role_policies(RoleName=role)["PolicyNames"]
                          for role in (world.role_name, world.bystander_role)},
    }


def inbox(world: World, queue_url: str) -> list[dict[str, Any]]:
    return calls.drain(world.sandbox, queue_url)


def responder_env(world: World) -> dict[str, str]:
    return calls.topic_env(world.oncall_topic, world.pager_topic)


@pytest.fixture(scope="module")
def runtime(sandbox: Sandbox) -> Iterator[FunctionRuntime]:
    # Topic ARNs are names in a fixed account and region, so one warm responder serves every world.
    with FunctionRuntime("responders.crypto:handler", env=calls.topic_env(), endpoint_url=sandbox.endpoint_url,
                         credentials=Credentials("AKIARESPONDER0000000", "responder-secret"), region=calls.REGION,
                         sandbox=sandbox, timeout_seconds=60, time_scale=100.0,
                         function_name="crypto-responder") as started:
        yield started


@pytest.fixture
def world(sandbox: Sandbox, runtime: FunctionRuntime) -> World:
    return build_world(sandbox)


def test_it_contains_the_instance_and_tells_the_on_call(world: World, runtime: FunctionRuntime) -> None:
    ec2, iam = world.client("ec2"), world.client("iam")
    before = inventory(world)
    event = crypto_event(world)
    finding_id = event["detail"]["id"]

    summary = calls.invoke(runtime, event)

    assert summary["status"] == "remediated", summary
    assert summary["instance_id"] == world.instance_id
    instance = ec2.describe_instances(InstanceIds=[world.instance_id])["Reservations"][0]["Instances"][0]
    # Quarantined: every interface only in one group, in the instance's VPC, with no rules at all.
    isolation = summary["steps"]["quarantine"]["detail"]["isolation_group"]
    assert len(instance["NetworkInterfaces"]) == 2
    assert all([g["GroupId"] for g in eni["Groups"]] == [isolation] for eni in instance["NetworkInterfaces"])
    assert [g["GroupId"] for g in instance["SecurityGroups"]] == [isolation]
    group = ec2.describe_security_groups(GroupIds=[isolation])["SecurityGroups"][0]
    assert (group["VpcId"], group["IpPermissions"], group["IpPermissionsEgress"]) == (world.vpc_id, [], [])
    # Snapshotted: each attached volume once, tagged with the finding.
    volumes = {m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]}
    snapshots = ec2.describe_snapshots(OwnerIds=["self"], Filters=[
        {"Name": "tag:gdsim:finding-id", "Values": [finding_id]}])["Snapshots"]
    assert len(volumes) == 2
    assert sorted(s["VolumeId"] for s in snapshots) == sorted(volumes)
    # Credentials revoked: no profile on the instance, older sessions of its role denied.
    assert ec2.describe_iam_instance_profile_associations(Filters=[
        {"Name": "instance-id", "Values": [world.instance_id]}])["IamInstanceProfileAssociations"] == []
    policy = iam.get_role_policy(RoleName=world.role_name, PolicyName="gdsim-revoke-older-sessions")
    [statement] = policy["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Deny", "*", "*")
    assert "aws:TokenIssueTime" in statement["Condition"]["DateLessThan"]
    # Stopped, never terminated.
    assert instance["State"]["Name"] in ("stopping", "stopped")
    # The on-call heard about it with what they need; nobody was paged.
    [notice] = inbox(world, world.oncall_queue)
    message = json.loads(notice["Message"])
    assert (message["finding_id"], message["finding_type"], message["severity"], message["instance_id"]) == (
        finding_id, "CryptoCurrency:EC2/BitcoinTool.B!DNS", 8, world.instance_id)
    assert inbox(world, world.pager_queue) == []
    # Nothing else changed: the bystander and its role are as they were.
    after = inventory(world)
    assert after["instances"][world.bystander_id] == before["instances"][world.bystander_id]
    assert after["role_policies"][world.bystander_role] == before["role_policies"][world.bystander_role]
    assert [a for a in after["associations"] if a not in before["associations"]] == []


def test_a_second_delivery_and_an_aggregated_update_change_nothing(world: World,
                                                                   runtime: FunctionRuntime) -> None:
    event = crypto_event(world)
    first = calls.invoke(runtime, event)
    assert first["status"] == "remediated"
    assert len(inbox(world, world.oncall_queue)) == 1
    settled = inventory(world)

    again = calls.invoke(runtime, event)
    update = crypto_event(world, count=5, finding_id=event["detail"]["id"])
    aggregated = calls.invoke(runtime, update)

    assert again["status"] == aggregated["status"] == "duplicate"
    assert inventory(world) == settled
    assert inbox(world, world.oncall_queue) == []
    assert inbox(world, world.pager_queue) == []


def test_a_new_finding_on_the_same_instance_takes_its_own_snapshots(world: World,
                                                                    runtime: FunctionRuntime) -> None:
    ec2 = world.client("ec2")
    first, second = crypto_event(world), crypto_event(world)

    assert calls.invoke(runtime, first)["status"] == "remediated"
    again = calls.invoke(runtime, second)

    # Forensics are per finding: the second one's evidence is new, the first one's is kept.
    def snapshots_of(event: dict[str, Any]) -> dict[str, str]:
        found = ec2.describe_snapshots(OwnerIds=["self"], Filters=[
            {"Name": "tag:gdsim:finding-id", "Values": [event["detail"]["id"]]}])["Snapshots"]
        return {s["SnapshotId"]: s["VolumeId"] for s in found}

    taken_first, taken_second = snapshots_of(first), snapshots_of(second)
    assert len(taken_first) == len(taken_second) == 2
    assert sorted(taken_first.values()) == sorted(taken_second.values())
    assert not set(taken_first) & set(taken_second)
    assert again["status"] == "remediated" and again["steps"]["snapshot"]["outcome"] == "done"
    assert {record["snapshot_id"] for record in again["steps"]["snapshot"]["detail"]} == set(taken_second)


def test_a_protected_instance_is_quarantined_but_left_running(world: World, runtime: FunctionRuntime) -> None:
    world.client("ec2").create_tags(Resources=[world.instance_id], Tags=[{"Key": "gdsim:protected",
                                                                          "Value": "true"}])

    summary = calls.invoke(runtime, crypto_event(world))

    assert summary["steps"]["stop"]["outcome"] == "skipped"
    assert "protected" in summary["steps"]["stop"]["detail"]
    assert summary["steps"]["quarantine"]["outcome"] == "done"
    state = world.client("ec2").describe_instances(InstanceIds=[world.instance_id])[
        "Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state == "running"


def test_a_failing_step_is_escalated_with_the_reason_and_the_rest_still_done(
        world: World, runtime: FunctionRuntime) -> None:
    world.client("sns").delete_topic(TopicArn=world.oncall_topic)  # the notification step will fail

    summary = calls.invoke(runtime, crypto_event(world))

    assert summary["status"] == "escalated"
    assert summary["steps"]["notify"]["outcome"] == "failed"
    assert summary["steps"]["stop"]["outcome"] == "done"
    [page] = inbox(world, world.pager_queue)
    body = json.loads(page["Message"])
    assert body["level"] == 1
    assert body["contact"] == "secops-lead@example.com"
    assert body["finding_id"] == summary["finding_id"]
    assert "notify failed" in body["reason"]
    assert page["MessageAttributes"]["level"] == {"Type": "Number", "Value": "1"}
    tags = world.client("ec2").describe_tags(Filters=[
        {"Name": "resource-id", "Values": [world.instance_id]}, {"Name": "key", "Values": ["gdsim:handled-finding"]}])
    assert tags["Tags"] == []  # not marked handled: a redelivery retries what failed


def _broken(event: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    broken = copy.deepcopy(event)
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return broken


@pytest.mark.parametrize("how, words", [
    (lambda e, w: "not an event", "event is a str"),
    (lambda e, w: _broken(e, ("detail",), ["x"]), "no detail object"),
    (lambda e, w: _broken(e, ("detail", "type"), "Trojan:EC2/DropPoint"), "is not a CryptoCurrency:EC2/"),
    (lambda e, w: _broken(e, ("detail", "resource", "instanceDetails", "instanceId"), "i-1; rm -rf /"),
     "is not an EC2 instance id"),
    (lambda e, w: _broken(e, ("detail", "resource", "instanceDetails", "instanceId"), "i-0aaaaaaaaaaaaaaaa"),
     "does not exist"),
    (lambda e, w: _broken(e, ("detail", "accountId"), "999999999999"), "is for account 999999999999"),
    (lambda e, w: _broken(e, ("detail", "severity"), "high"), "is not a number"),
])
def test_a_malformed_event_is_escalated_with_a_reason_and_touches_nothing(
        world: World, runtime: FunctionRuntime, how: Any, words: str) -> None:
    before = inventory(world)

    summary = calls.invoke(runtime, how(crypto_event(world), world))

    assert summary["status"] == "rejected"
    assert words in summary["reason"]
    assert inventory(world) == before
    assert inbox(world, world.oncall_queue) == []
    [page] = inbox(world, world.pager_queue)
    body = json.loads(page["Message"])
    assert body["level"] == 1
    assert words in body["reason"]


# -- property: hostile events, run in this process for speed (same handler, same moto) -------------

_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=3), max_leaves=8)
_not_instance_id = st.one_of(_json, st.text(max_size=30)).filter(
    lambda v: not (isinstance(v, str) and v.startswith("i-") and len(v) in (10, 19)))
_MUTATIONS = st.one_of(
    st.tuples(st.just(()), _json),
    st.tuples(st.just(("detail",)), _json.filter(lambda v: not isinstance(v, dict))),
    st.tuples(st.just(("detail", "id")),
              st.one_of(st.none(), st.integers(), st.text(max_size=3).map(lambda t: f" {t}"))),
    st.tuples(st.just(("detail", "type")), st.one_of(_json, st.text(max_size=30)).filter(
        lambda v: not (isinstance(v, str) and v.startswith("CryptoCurrency:EC2/")))),
    st.tuples(st.just(("detail", "resource", "resourceType")), st.one_of(_json, st.sampled_from(
        ["AccessKey", "S3Bucket", "instance", ""]))),
    st.tuples(st.just(("detail", "resource", "instanceDetails", "instanceId")), _not_instance_id),
    st.tuples(st.just(("detail", "resource", "instanceDetails", "instanceId")),
              st.from_regex(r"\Ai-[0-9a-f]{17}\Z")),
    st.tuples(st.just(("detail", "severity")), st.one_of(st.text(max_size=5), st.floats().filter(
        lambda v: not 0 <= v <= 10), st.lists(st.integers(), max_size=2))),
    st.tuples(st.just(("detail", "region")), st.sampled_from(["eu-west-1", "us-east-1; DROP", "", "mars"])),
    st.tuples(st.just(("detail-type",)), st.text(max_size=20).filter(lambda v: v != "GuardDuty Finding")),
)


@pytest.fixture(scope="module")
def in_process(sandbox: Sandbox) -> Iterator[World]:
    world = build_world(sandbox)
    with calls.responder_environment(str(sandbox.endpoint_url), "AKIARESPONDER0000000", responder_env(world)):
        yield world


@settings(max_examples=30, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutation=_MUTATIONS)
def test_hostile_events_never_raise_never_touch_and_are_escalated(in_process: World,
                                                                  mutation: tuple[tuple[str, ...], Any]) -> None:
    from responders.crypto import handler

    world = in_process
    path, value = mutation
    event = value if not path else _broken(crypto_event(world), path, value)
    before = inventory(world)

    summary = handler(event, calls.lambda_context("crypto-responder"))

    assert summary["status"] == "rejected", summary
    assert summary["escalated"] is True
    assert inventory(world) == before
    [page] = inbox(world, world.pager_queue)
    assert json.loads(page["Message"])["reason"] == summary["reason"]
    assert inbox(world, world.oncall_queue) == []


# -- the deliberately bad responders the harness must catch do misbehave as intended ---------------

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "responders"


def bad_runtime(world: World, name: str, **env: str) -> FunctionRuntime:
    return FunctionRuntime(f"{FIXTURES / name}:handler", env={**responder_env(world), **env},
                           endpoint_url=world.sandbox.endpoint_url, credentials=Credentials("AKIABAD", "s"),
                           region=calls.REGION, sandbox=world.sandbox, timeout_seconds=60, time_scale=1000.0)


def test_the_bystander_toucher_changes_an_instance_outside_the_finding(world: World) -> None:
    before = inventory(world)
    with bad_runtime(world, "touches_bystander.py") as runtime:
        result = calls.invoke(runtime, crypto_event(world))

    assert result["status"] == "remediated"
    assert result["bystander"] == world.bystander_id
    assert inventory(world)["instances"][world.bystander_id] != before["instances"][world.bystander_id]


def test_the_slow_responder_waits_then_does_the_job_and_the_idle_one_does_nothing(world: World) -> None:
    before = inventory(world)
    with bad_runtime(world, "does_nothing.py") as runtime:
        assert calls.invoke(runtime, crypto_event(world))["status"] == "ignored"
    assert inventory(world) == before

    with bad_runtime(world, "too_slow.py", TOO_SLOW_DELAY_SECONDS="300") as runtime:
        invocation = runtime.invoke(crypto_event(world))

    assert invocation.outcome == "ok", invocation.error
    assert invocation.result["status"] == "remediated"
    assert "waiting 300.0 runbook seconds" in invocation.logs


def test_throttled_calls_are_retried_until_they_go_through(world: World) -> None:
    from simulator.gateway import Gateway

    gateway = Gateway(str(world.sandbox.endpoint_url), region=calls.REGION, account_id=calls.ACCOUNT)
    gateway.fault_hook, _ = calls.throttle_twice("AKIATHROTTLED0000001")
    url = gateway.start()
    try:
        with FunctionRuntime("responders.crypto:handler", env=responder_env(world), endpoint_url=url,
                             credentials=Credentials("AKIATHROTTLED0000001", "s"), region=calls.REGION,
                             sandbox=world.sandbox, timeout_seconds=60, time_scale=1000.0) as runtime:
            summary = calls.invoke(runtime, crypto_event(world))
    finally:
        gateway.stop()

    assert summary["status"] == "remediated", summary
    faults = [e for e in gateway.journal.entries() if e.fault]
    assert {e.operation for e in faults} >= {"Publish", "ModifyNetworkInterfaceAttribute", "CreateSnapshot",
                                             "PutRolePolicy", "StopInstances"}
    assert all(e.error_code in ("RequestLimitExceeded", "Throttling") for e in faults)
    assert len(inbox(world, world.oncall_queue)) == 1  # throttled publishes were not delivered twice
