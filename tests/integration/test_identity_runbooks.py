"""The identity runbooks end to end, and their reference responders against a real moto server.

Through the CLI: every identity scenario passes with its reference responder and fails with one that does
nothing. Through the function runtime, on the module's moto sandbox behind a recording gateway (which also
serves CloudTrail): the responders contain only what the finding names, say what they could not do, repeat
nothing for a repeated or aggregated finding, ride out throttling, and refuse hostile input untouched.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import responder_calls as calls
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from simulator.delivery.runtime import FunctionRuntime
from simulator.findings import aggregate_update, generate_finding, wrap_in_envelope
from simulator.fuzz import hostile_variant, valid_variant
from simulator.gateway import Gateway
from simulator.targets.base import Credentials, Sandbox

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
RESPONDER_KEY = "AKIARESPONDERIDENT01"
RETIRED_SCENARIO = "unauthorizedaccess-unusual-asn-caller"
USER_TYPES = (
    "UnauthorizedAccess:IAMUser/MaliciousIPCaller", "CredentialAccess:IAMUser/AnomalousBehavior",
    "Discovery:IAMUser/AnomalousBehavior", "Persistence:IAMUser/AnomalousBehavior",
    "PrivilegeEscalation:IAMUser/AnomalousBehavior", "DefenseEvasion:IAMUser/AnomalousBehavior",
    "Stealth:IAMUser/CloudTrailLoggingDisabled", "Recon:IAMUser/MaliciousIPCaller",
    "InitialAccess:IAMUser/AnomalousBehavior", "Impact:IAMUser/AnomalousBehavior",
    "Exfiltration:IAMUser/AnomalousBehavior", "PenTest:IAMUser/KaliLinux", "DefenseImpairment:EC2/DisableOrModifyTools",
    "LateralMovement:EC2/RemoteServices", "ResourceDevelopment:SES/CompromiseAccounts",
)


# -- through the CLI ----------------------------------------------------------------------------------------


def simulate(tmp_path: Path, *args: str) -> tuple[int, str, dict[str, Any]]:
    report_dir = tmp_path / "report"
    result = subprocess.run([sys.executable, "-m", "simulator", "run", "--seed", "7", "--quiet",
                             "--report-dir", str(report_dir), *args],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    report_file = report_dir / "report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    return result.returncode, result.stdout + result.stderr, report


def test_the_retired_type_runbook_passes(tmp_path: Path) -> None:
    code, output, report = simulate(tmp_path, "--scenario", RETIRED_SCENARIO)

    assert code == 0, output
    [result] = report["scenarios"]
    assert result["finding_types"] == ["UnauthorizedAccess:IAMUser/UnusualASNCaller"]
    assert {step["id"]: step["verdict"] for step in result["steps"]}["report-unremediated"] == "met"


# -- the responders through the function runtime ---------------------------------------------------------


@pytest.fixture(scope="module")
def gateway(sandbox: Sandbox) -> Iterator[Gateway]:
    with Gateway(str(sandbox.endpoint_url), region=calls.REGION, account_id=calls.ACCOUNT) as started:
        yield started


@dataclass
class World:
    sandbox: Sandbox
    gateway: Gateway
    oncall_queue: str
    pager_queue: str
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # descriptors, as provisioning makes them
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    since_seq: int = 0

    def client(self, service: str) -> Any:
        return calls.client_of(self.sandbox, service)

    def inbox(self, queue_url: str) -> list[dict[str, Any]]:
        return calls.drain(self.sandbox, queue_url)

    def calls(self, operation: str | None = None) -> list[Any]:
        """The responder's successful mutating calls since the world was built."""
        return [e for e in self.gateway.journal.entries(since_seq=self.since_seq)
                if e.caller == RESPONDER_KEY and e.mutating and e.ok and operation in (None, e.operation)]

    def user_state(self, name: str) -> dict[str, Any]:
        iam, user_name = self.client("iam"), self.users[name]["user_name"]
        try:
            iam.get_login_profile(UserName=user_name)
            password = True
        except iam.exceptions.NoSuchEntityException:
            password = False
        return {"keys": {k["AccessKeyId"]: k["Status"]
                         for k in iam.list_access_keys(UserName=user_name)["AccessKeyMetadata"]},
                "password": password, "policies": iam.list_user_policies(UserName=user_name)["PolicyNames"],
                "tags": {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=user_name)["Tags"]}}

    def instance_state(self, name: str) -> dict[str, Any]:
        ec2, instance_id = self.client("ec2"), self.instances[name]["id"]
        instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        associations = ec2.describe_iam_instance_profile_associations(Filters=[
            {"Name": "instance-id", "Values": [instance_id]}])["IamInstanceProfileAssociations"]
        role = self.instances[name]["instance_profile"]["role_name"]
        return {"groups": sorted((n["NetworkInterfaceId"], tuple(g["GroupId"] for g in n["Groups"]))
                                 for n in instance["NetworkInterfaces"]),
                "profiles": sorted(a["IamInstanceProfile"]["Arn"] for a in associations
                                   if a["State"] == "associated"),
                "role_policies": self.client("iam").list_role_policies(RoleName=role)["PolicyNames"],
                "state": instance["State"]["Name"]}

    def inventory(self) -> dict[str, Any]:
        return {**{f"user:{n}": self.user_state(n) for n in self.users},
                **{f"instance:{n}": self.instance_state(n) for n in self.instances}}


def _user(world: World, name: str, *, keys: int, password: bool, tags: dict[str, str] | None = None) -> None:
    iam = world.client("iam")
    created = iam.create_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])["User"]
    key_ids = [iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"] for _ in range(keys)]
    if password:
        iam.create_login_profile(UserName=name, Password="Correct-Horse-Battery-9!")
    world.users[name] = {"kind": "user", "name": name, "id": created["UserId"], "arn": created["Arn"],
                         "user_name": name, "access_keys": [{"id": key} for key in key_ids],
                         "console_password": password, "tags": tags or {}}


def _instance(world: World, name: str, subnet: str, group: str) -> None:
    iam, role = world.client("iam"), f"{name}-role"
    created = iam.create_role(RoleName=role, AssumeRolePolicyDocument=calls.ASSUME_EC2)["Role"]
    profile = iam.create_instance_profile(InstanceProfileName=role)["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName=role, RoleName=role)
    instance = world.client("ec2").run_instances(
        ImageId="ami-12345678", MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=subnet,
        SecurityGroupIds=[group], IamInstanceProfile={"Arn": profile["Arn"]})["Instances"][0]
    world.instances[name] = {
        "kind": "instance", "name": name, "id": instance["InstanceId"], "vpc_id": instance["VpcId"],
        "instance_profile": {"arn": profile["Arn"], "id": profile["InstanceProfileId"], "name": role,
                             "role_name": role, "role_arn": created["Arn"]}}


def build_world(sandbox: Sandbox, gateway: Gateway, *, instances: bool = False) -> World:
    calls.reset(sandbox)
    sns = calls.client_of(sandbox, "sns")
    oncall = sns.create_topic(Name="ir-oncall")["TopicArn"]
    pager = sns.create_topic(Name="ir-pager")["TopicArn"]
    world = World(sandbox, gateway, calls.subscribed_queue(sandbox, oncall, "oncall-inbox"),
                  calls.subscribed_queue(sandbox, pager, "pager-inbox"), since_seq=gateway.journal.last_seq)
    _user(world, "jdoe", keys=2, password=True, tags={"Team": "finance"})
    _user(world, "analyst", keys=1, password=True)
    if instances:
        ec2 = world.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
        _instance(world, "web", subnet, group)
        _instance(world, "batch", subnet, group)
    return world


def start_runtime(handler: str, gateway: Gateway, sandbox: Sandbox, **env: str) -> FunctionRuntime:
    return FunctionRuntime(handler, env=calls.topic_env(**env), endpoint_url=gateway.url,
                           credentials=Credentials(RESPONDER_KEY, "responder-secret"), region=calls.REGION,
                           sandbox=sandbox, timeout_seconds=60, time_scale=1000.0)


@pytest.fixture(scope="module")
def user_runtime(sandbox: Sandbox, gateway: Gateway) -> Iterator[FunctionRuntime]:
    with start_runtime("responders.iam_user:handler", gateway, sandbox) as runtime:
        yield runtime


@pytest.fixture(scope="module")
def instance_runtime(sandbox: Sandbox, gateway: Gateway) -> Iterator[FunctionRuntime]:
    with start_runtime("responders.instance_credentials:handler", gateway, sandbox,
                       FOLLOW_UP="find how the credentials left the instance") as runtime:
        yield runtime


def user_event(world: World, type_name: str = "UnauthorizedAccess:IAMUser/MaliciousIPCaller", *,
               severity: float | None = None, seed: int = 1) -> dict[str, Any]:
    finding = generate_finding(type_name, rng=random.Random(seed), resource=world.users["jdoe"], severity=severity)
    return wrap_in_envelope(finding, rng=random.Random(seed))


def test_a_user_is_contained_and_what_is_left_is_paged(sandbox: Sandbox, gateway: Gateway,
                                                       user_runtime: FunctionRuntime) -> None:
    world = build_world(sandbox, gateway)
    named, other = (key["id"] for key in world.users["jdoe"]["access_keys"])
    bystander = world.user_state("analyst")
    event = user_event(world)

    summary = calls.invoke(user_runtime, event)

    assert summary["status"] == "escalated", summary
    state = world.user_state("jdoe")
    assert state["keys"] == {named: "Inactive", other: "Active"}  # only the key the finding names
    assert state["password"] is False
    document = world.client("iam").get_user_policy(UserName="jdoe", PolicyName="gdsim-revoke-older-sessions")
    assert "aws:TokenIssueTime" in document["PolicyDocument"]["Statement"][0]["Condition"]["DateLessThan"]
    assert world.user_state("analyst") == bystander
    [notice] = world.inbox(world.oncall_queue)
    message = json.loads(notice["Message"])
    assert message["finding_id"] == event["detail"]["id"]
    assert message["caller"] == {"type": "user", "name": "jdoe", "access_key_id": named}
    assert message["recent_activity"]["looked_up"] == ["Username=jdoe", f"AccessKeyId={named}"]
    assert message["call"]["remote_ip"]
    [page] = world.inbox(world.pager_queue)
    body = json.loads(page["Message"])
    assert body["level"] == 1 and body["finding_id"] == event["detail"]["id"]
    assert f"access key {other} is still active" in body["reason"]
    lookups = [e for e in gateway.journal.entries(since_seq=world.since_seq) if e.operation == "LookupEvents"]
    assert {a["AttributeValue"] for e in lookups for a in e.params["LookupAttributes"]} == {"jdoe", named}


def test_a_repeat_and_an_aggregated_update_change_nothing(sandbox: Sandbox, gateway: Gateway,
                                                          user_runtime: FunctionRuntime) -> None:
    world = build_world(sandbox, gateway)
    event = user_event(world)
    assert calls.invoke(user_runtime, event)["status"] == "escalated"
    settled = world.inventory()
    update = wrap_in_envelope(aggregate_update(event["detail"], rng=random.Random(3), occurrences=4))

    again, aggregated = calls.invoke(user_runtime, event), calls.invoke(user_runtime, update)

    assert again["status"] == aggregated["status"] == "duplicate"
    assert world.inventory() == settled
    assert [len(world.calls(op)) for op in ("UpdateAccessKey", "PutUserPolicy", "DeleteLoginProfile")] == [1, 1, 1]
    assert len(world.inbox(world.oncall_queue)) == 1 and len(world.inbox(world.pager_queue)) == 1


def test_a_protected_user_is_not_contained_but_paged(sandbox: Sandbox, gateway: Gateway,
                                                     user_runtime: FunctionRuntime) -> None:
    world = build_world(sandbox, gateway)
    world.client("iam").tag_user(UserName="jdoe", Tags=[{"Key": "gdsim:protected", "Value": "true"}])
    before = world.user_state("jdoe")

    summary = calls.invoke(user_runtime, user_event(world))

    assert summary["status"] == "escalated" and summary["contained"] == []
    after = world.user_state("jdoe")
    assert (after["keys"], after["password"], after["policies"]) == (before["keys"], True, [])
    [page] = world.inbox(world.pager_queue)
    assert "is protected (tagged gdsim:protected=true): not contained" in json.loads(page["Message"])["reason"]
    assert len(world.inbox(world.oncall_queue)) == 1


def test_below_the_containment_severity_a_human_decides(sandbox: Sandbox, gateway: Gateway,
                                                        user_runtime: FunctionRuntime) -> None:
    world = build_world(sandbox, gateway)
    before = world.user_state("jdoe")

    summary = calls.invoke(user_runtime, user_event(world, "Discovery:IAMUser/AnomalousBehavior", severity=2.0))

    assert summary["status"] == "escalated"
    assert world.user_state("jdoe")["keys"] == before["keys"]
    [page] = world.inbox(world.pager_queue)
    assert "severity 2 is below 4: containment of user jdoe needs a human decision" in json.loads(
        page["Message"])["reason"]


def test_root_credential_use_is_paged_and_the_root_user_never_touched(sandbox: Sandbox, gateway: Gateway,
                                                                      user_runtime: FunctionRuntime) -> None:
    world = build_world(sandbox, gateway)
    before = world.inventory()
    event = wrap_in_envelope(generate_finding("Policy:IAMUser/RootCredentialUsage", rng=random.Random(4)))

    first, second = calls.invoke(user_runtime, event), calls.invoke(user_runtime, event)

    assert (first["status"], second["status"]) == ("escalated", "duplicate")
    assert world.inventory() == before
    assert {e.service for e in world.calls()} == {"sns", "ssm"}  # pages, notes, and not one IAM change
    [notice] = world.inbox(world.oncall_queue)
    assert json.loads(notice["Message"])["caller"]["type"] == "root"
    [page] = world.inbox(world.pager_queue)
    assert "only a human acts on the root user" in json.loads(page["Message"])["reason"]


def test_a_failing_step_is_paged_with_the_reason_and_the_rest_still_done(sandbox: Sandbox, gateway: Gateway,
                                                                         user_runtime: FunctionRuntime) -> None:
    world = build_world(sandbox, gateway)
    world.client("sns").delete_topic(TopicArn=calls.topic_arn("ir-oncall"))  # notify will fail

    summary = calls.invoke(user_runtime, user_event(world))

    assert summary["steps"]["notify"]["outcome"] == "failed"
    assert world.user_state("jdoe")["password"] is False
    [page] = world.inbox(world.pager_queue)
    assert "notify failed" in json.loads(page["Message"])["reason"]
    assert "gdsim:handled-finding" not in world.user_state("jdoe")["tags"]  # a redelivery retries the notice


def test_throttled_calls_are_retried_and_nothing_is_done_twice(sandbox: Sandbox, gateway: Gateway,
                                                               user_runtime: FunctionRuntime) -> None:
    world = build_world(sandbox, gateway)
    gateway.fault_hook, throttled = calls.throttle_twice(RESPONDER_KEY)
    try:
        summary = calls.invoke(user_runtime, user_event(world))
    finally:
        gateway.fault_hook = None

    assert summary["status"] == "escalated" and not any("failed" in r for r in summary["reasons"]), summary
    assert {"UpdateAccessKey", "PutUserPolicy", "DeleteLoginProfile", "Publish"} <= set(throttled)
    assert len(world.inbox(world.oncall_queue)) == 1 and len(world.inbox(world.pager_queue)) == 1


def stolen_credentials_event(world: World, instance: str = "web", *, role_of: str | None = None) -> dict[str, Any]:
    finding = generate_finding("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
                               rng=random.Random(2), resource=world.instances[instance])
    if role_of:
        finding["resource"]["accessKeyDetails"]["userName"] = world.instances[role_of]["instance_profile"]["role_name"]
    return wrap_in_envelope(finding, rng=random.Random(2))


def test_stolen_instance_credentials_are_revoked_and_the_instance_isolated(
        sandbox: Sandbox, gateway: Gateway, instance_runtime: FunctionRuntime) -> None:
    world = build_world(sandbox, gateway, instances=True)
    bystander = world.instance_state("batch")
    event = stolen_credentials_event(world)

    summary = calls.invoke(instance_runtime, event)

    assert summary["status"] == "escalated" and summary["reasons"] == [
        "follow-up: find how the credentials left the instance"], summary
    state = world.instance_state("web")
    assert state["profiles"] == [] and state["role_policies"] == ["gdsim-revoke-older-sessions"]
    isolation = summary["steps"]["quarantine"]["detail"]["isolation_group"]
    assert all(groups == (isolation,) for _, groups in state["groups"])
    assert state["state"] == "running"  # kept for forensics; this runbook does not stop it
    assert world.instance_state("batch") == bystander
    [notice] = world.inbox(world.oncall_queue)
    assert json.loads(notice["Message"])["instance_id"] == world.instances["web"]["id"]

    settled = world.inventory()
    assert calls.invoke(instance_runtime, event)["status"] == "duplicate"
    assert calls.invoke(instance_runtime, wrap_in_envelope(aggregate_update(event["detail"], rng=random.Random(5))))[
        "status"] == "duplicate"
    assert world.inventory() == settled
    assert len(world.calls("PutRolePolicy")) == 1 and len(world.calls("DisassociateIamInstanceProfile")) == 1
    assert world.inbox(world.oncall_queue) == [] and len(world.inbox(world.pager_queue)) == 1


def test_a_role_the_instance_does_not_carry_is_refused_and_nothing_touched(
        sandbox: Sandbox, gateway: Gateway, instance_runtime: FunctionRuntime) -> None:
    world = build_world(sandbox, gateway, instances=True)
    before = world.inventory()

    summary = calls.invoke(instance_runtime, stolen_credentials_event(world, "web", role_of="batch"))

    assert summary["status"] == "rejected"
    assert "carries web-role, not role batch-role" in summary["reason"]
    assert world.inventory() == before
    assert {call.operation for call in world.calls()} == {"Publish"}  # the page, and nothing else
    [page] = world.inbox(world.pager_queue)
    assert json.loads(page["Message"])["reason"] == summary["reason"]


# -- properties: fuzzed findings, run in this process for speed (same handler, same moto) --------------------


@pytest.fixture(scope="module")
def in_process(sandbox: Sandbox, gateway: Gateway) -> Iterator[Gateway]:
    with calls.responder_environment(gateway.url, RESPONDER_KEY, calls.topic_env(FINDING_TYPES=",".join(USER_TYPES))):
        yield gateway


_PROPERTY = settings(max_examples=25, derandomize=True, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@_PROPERTY
@given(type_name=st.sampled_from(USER_TYPES), seed=st.integers(0, 2**32 - 1))
def test_valid_findings_are_handled_and_touch_only_their_user(in_process: Gateway, sandbox: Sandbox,
                                                              type_name: str, seed: int) -> None:
    from responders.iam_user import handler

    world = build_world(sandbox, in_process)
    bystander = world.user_state("analyst")
    finding = valid_variant(random.Random(seed), type_name, resource=world.users["jdoe"])

    summary = handler(wrap_in_envelope(finding, rng=random.Random(seed)), calls.lambda_context("iam-user-responder"))

    event(summary["status"])
    assert summary["status"] in ("remediated", "escalated", "rejected"), summary
    if summary["status"] == "rejected":  # the fuzzer may name another principal: then nothing is done
        assert summary["escalated"] is True
    assert world.user_state("analyst") == bystander
    assert all(set(call.resource_ids) & {"jdoe", *(k["id"] for k in world.users["jdoe"]["access_keys"])}
               for call in world.calls() if call.service == "iam")


# Attacks that make a finding unfit to act on: the handler must refuse them whoever they name.
REFUSED = frozenset({"missing-required", "null-required", "mistyped-field", "malformed-timestamp", "unknown-type",
                     "retired-type", "foreign-account", "arn-mismatch", "unprovisioned-resource",
                     "lookalike-resource", "severity-out-of-scale", "type-resource-mismatch", "oversize-over-limit"})


def _bind_to(finding: Any, user: dict[str, Any]) -> None:
    """Point a hostile finding's caller at a real user, so refusing it is a decision, not a lookup miss."""
    details = finding.get("resource", {}).get("accessKeyDetails") if isinstance(finding.get("resource"), dict) \
        else None
    if isinstance(details, dict) and details.get("userType") == "IAMUser":
        details.update(userName=user["user_name"], accessKeyId=user["access_keys"][0]["id"], principalId=user["id"])


@_PROPERTY
@given(type_name=st.sampled_from(USER_TYPES), seed=st.integers(0, 2**32 - 1))
def test_hostile_findings_never_raise_never_touch_a_bystander_and_refusals_are_paged(
        in_process: Gateway, sandbox: Sandbox, type_name: str, seed: int) -> None:
    from responders.iam_user import handler

    world = build_world(sandbox, in_process)
    bystander = world.user_state("analyst")
    hostile = hostile_variant(random.Random(seed), type_name)
    events = [copy.deepcopy(sent) for sent in hostile.events] or [
        wrap_in_envelope(copy.deepcopy(hostile.finding), rng=random.Random(seed))]
    if not hostile.target.startswith("$.resource"):
        for delivery in events:
            _bind_to(delivery["detail"], world.users["jdoe"])

    summaries = [handler(one, calls.lambda_context("iam-user-responder")) for one in events]
    event(f"{hostile.attack}: {', '.join(sorted({s['status'] for s in summaries}))}")

    assert world.user_state("analyst") == bystander, hostile.attack
    if hostile.attack in REFUSED:
        [summary] = summaries
        assert summary["status"] == "rejected" and summary["escalated"] is True, (hostile.attack, summary)
        assert world.calls() == world.calls("Publish"), hostile.attack  # a page, and nothing else changed
        [page] = world.inbox(world.pager_queue)
        assert json.loads(page["Message"])["reason"] == summary["reason"]
    else:
        assert all(s["status"] in ("remediated", "escalated", "rejected", "duplicate") for s in summaries)
        assert len(world.inbox(world.oncall_queue)) <= 1, hostile.attack  # repeats notify no one again
