"""Invariants on constructed journals, environments and invocation records."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest

from simulator.delivery.runtime import DeadLetter, Invocation
from simulator.gateway.journal import Journal, JournalEntry
from simulator.provision.environment import ProvisionedEnvironment
from simulator.verdicts import (
    LATE,
    MET,
    MISSING,
    StepVerdict,
    blast_radius,
    changed_ids,
    evaluate_invariants,
    no_duplicate_side_effects,
    no_unhandled_errors,
    pages_from_journal,
    registered_invariants,
    remediated_or_escalated,
)

RESPONDER = "AKIARESPONDER0000000"
HARNESS = "AKIAHARNESS000000000"
FINDING = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
OTHER = "ffffeeeeddddccccbbbbaaaa99998888"
_seq = itertools.count(1)


def entry(operation: str, params: dict[str, Any], resource_ids: tuple[str, ...] = (), *, service: str = "ec2",
          caller: str = RESPONDER, status: int = 200, error_code: str | None = None, fault: str | None = None,
          mutating: bool = True) -> JournalEntry:
    now = time.monotonic()
    return JournalEntry(seq=next(_seq), mono=now, mono_start=now, wall=time.time(), service=service,
                        operation=operation, region="us-east-1", caller=caller, resource_ids=resource_ids,
                        params=params, status=status, error_code=error_code, fault=fault, mutating=mutating)


def instance(name: str, suffix: str, role: str) -> dict[str, Any]:
    return {
        "kind": "instance", "name": name, "id": f"i-{suffix}", "arn": f"arn:aws:ec2:::instance/i-{suffix}",
        "vpc_id": "vpc-1", "subnet_id": "subnet-1", "security_groups": [{"id": "sg-web", "name": "web-sg"}],
        "network_interfaces": [{"id": f"eni-{suffix}", "security_groups": [{"id": "sg-web"}]}],
        "volumes": [{"id": f"vol-{suffix}1", "device": "/dev/xvda"}, {"id": f"vol-{suffix}2", "device": "/dev/sdf"}],
        "instance_profile": {"arn": f"arn:aws:iam::1:instance-profile/{role}", "id": f"AIPA{role}",
                             "name": role, "role_name": role, "role_arn": f"arn:aws:iam::1:role/{role}"},
        "tags": {},
    }


@pytest.fixture
def env() -> ProvisionedEnvironment:
    resources = {
        "sandbox-vpc": {"kind": "vpc", "name": "sandbox-vpc", "id": "vpc-1", "arn": "arn:vpc-1"},
        "web-sg": {"kind": "security_group", "name": "web-sg", "id": "sg-web", "arn": "arn:sg-web"},
        "miner": instance("miner", "miner", "web-role"),
        "neighbour": instance("neighbour", "neigh", "batch-role"),
        "web-role": {"kind": "role", "name": "web-role", "id": "AROAWEB", "arn": "arn:aws:iam::1:role/web-role",
                     "role_name": "web-role", "instance_profile": None},
        "ir-oncall": {"kind": "topic", "name": "ir-oncall", "id": "arn:sns:oncall", "arn": "arn:sns:oncall",
                      "topic_name": "oncall"},
        "pager": {"kind": "topic", "name": "pager", "id": "arn:sns:pager", "arn": "arn:sns:pager",
                  "topic_name": "pager"},
        "audit": {"kind": "topic", "name": "audit", "id": "arn:sns:audit", "arn": "arn:sns:audit",
                  "topic_name": "audit"},
    }
    return ProvisionedEnvironment(run_id="gdsim-t", account_id="123456789012", region="us-east-1",
                                  resources=resources, bystander_names=frozenset({"neighbour", "audit"}))


def judge_radius(env: ProvisionedEnvironment, *entries: JournalEntry, **kwargs: Any) -> Any:
    return blast_radius(entries, env=env, scope_names=["miner"], shared_names=["ir-oncall", "pager"],
                        responder_callers=[RESPONDER], **kwargs)


# ---------------------------------------------------------------- blast radius


def test_a_correct_response_stays_inside_the_blast_radius(env: ProvisionedEnvironment) -> None:
    verdict = judge_radius(
        env,
        entry("CreateSecurityGroup", {"GroupName": "iso", "VpcId": "vpc-1"}, ("vpc-1",)),
        entry("RevokeSecurityGroupEgress", {"GroupId": "sg-iso", "IpPermissions": [
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-web"}]}]}, ("sg-iso", "sg-web")),
        entry("ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": "eni-miner", "Groups": ["sg-iso"]},
              ("eni-miner", "sg-iso")),
        entry("ModifyInstanceAttribute", {"InstanceId": "i-miner", "Groups": ["sg-web"]}, ("i-miner", "sg-web")),
        entry("PutRolePolicy", {"RoleName": "web-role", "PolicyName": "revoke"}, ("web-role",), service="iam"),
        entry("DisassociateIamInstanceProfile", {"AssociationId": "iip-assoc-1"}, ("iip-assoc-1",)),
        entry("CreateSnapshot", {"VolumeId": "vol-miner1"}, ("vol-miner1",)),
        entry("Publish", {"TopicArn": "arn:sns:oncall", "Message": FINDING}, ("arn:sns:oncall",), service="sns"),
        entry("StopInstances", {"InstanceIds": ["i-miner"]}, ("i-miner",)),
        entry("DescribeInstances", {"InstanceIds": ["i-neigh"]}, ("i-neigh",), mutating=False),
        entry("StopInstances", {"InstanceIds": ["i-neigh"]}, ("i-neigh",), caller=HARNESS),
    )
    assert verdict.held, verdict.detail


def test_touching_a_bystander_is_named_with_the_call(env: ProvisionedEnvironment) -> None:
    verdict = judge_radius(
        env,
        entry("ModifyInstanceAttribute", {"InstanceId": "i-neigh", "Groups": ["sg-iso"]}, ("i-neigh", "sg-iso")),
        entry("Publish", {"TopicArn": "arn:sns:audit", "Message": "x"}, ("arn:sns:audit",), service="sns",
              status=403, error_code="AuthorizationError"),
    )
    assert not verdict.held
    assert verdict.violations == (
        "ec2:ModifyInstanceAttribute on i-neigh (bystander 'neighbour')",
        "sns:Publish on arn:sns:audit (bystander 'audit', failed: AuthorizationError)",
    )


def test_changing_a_shared_group_is_outside_the_blast_radius(env: ProvisionedEnvironment) -> None:
    verdict = judge_radius(env, entry("RevokeSecurityGroupIngress", {"GroupId": "sg-web"}, ("sg-web",)))
    assert not verdict.held
    assert verdict.detail == "ec2:RevokeSecurityGroupIngress on sg-web (outside the blast radius: 'web-sg')"


def test_bystander_inventory_changes_are_reported(env: ProvisionedEnvironment) -> None:
    before = {"i-neigh": {"state": "running", "groups": ["sg-web"]}, "vol-neigh1": {"state": "in-use"},
              "i-miner": {"state": "running"}}
    after = {"i-neigh": {"state": "running", "groups": ["sg-iso"]}, "i-miner": {"state": "stopped"}}
    verdict = judge_radius(env, inventory_before=before, inventory_after=after)
    assert not verdict.held
    assert verdict.violations == ("bystander 'neighbour' i-neigh changed: groups",
                                  "bystander 'neighbour' vol-neigh1 deleted")
    assert judge_radius(env, inventory_before=before, inventory_after=dict(before)).held


def test_reference_parameters_are_not_changes() -> None:
    assert changed_ids(entry("CreateSecurityGroup", {"VpcId": "vpc-1"}, ("vpc-1",))) == set()
    assert changed_ids(entry("ModifyVpcAttribute", {"VpcId": "vpc-1"}, ("vpc-1",))) == {"vpc-1"}
    assert changed_ids(entry("AttachRolePolicy", {"RoleName": "r", "PolicyArn": "arn:p"}, ("r", "arn:p"))) == {"r"}
    assert changed_ids(entry("DeletePolicy", {"PolicyArn": "arn:p"}, ("arn:p",))) == {"arn:p"}


# ---------------------------------------------------------------- unhandled errors


def invocation(outcome: str, attempt: int = 1, error: dict[str, Any] | None = None) -> Invocation:
    return Invocation(request_id=f"req-{attempt}", event_id="e1", finding_id=FINDING, attempt=attempt,
                      cold=attempt == 1, started_mono=0.0, ended_mono=0.1, outcome=outcome, error=error, logs="")


def test_errors_timeouts_and_dead_letters_break_the_invariant() -> None:
    assert no_unhandled_errors([invocation("ok")]).held
    verdict = no_unhandled_errors(
        [invocation("error", 1, {"errorType": "KeyError", "errorMessage": "'detail'"}),
         invocation("timeout", 2, {"errorType": "Sandbox.Timedout",
                                   "errorMessage": "Task timed out after 30.00 seconds"}),
         invocation("ok", 3)],
        [DeadLetter(request_id="req-1", event_id="e1", finding_id=FINDING, attempts=3,
                    error={"errorType": "KeyError", "errorMessage": "'detail'"}, event={}, mono=1.0)],
    )
    assert not verdict.held
    assert verdict.violations == (
        "error on attempt 1 (request req-1): KeyError: 'detail'",
        "timeout on attempt 2 (request req-2): Sandbox.Timedout: Task timed out after 30.00 seconds",
        f"dead-lettered after 3 attempts (finding {FINDING}): KeyError: 'detail'",
    )


# ---------------------------------------------------------------- remediated or escalated


def step(step_id: str, verdict: str, kind: str = "instance_stopped") -> StepVerdict:
    observed = None if verdict == MISSING else 1.0
    return StepVerdict(step_id, 60.0, observed, observed, verdict, kind=kind)


def test_a_finding_is_remediated_when_every_step_was_done_even_late() -> None:
    steps = {FINDING: [step("notify", MET), step("stop", LATE)]}
    assert remediated_or_escalated([FINDING], steps, {}).held


def test_an_unremediated_finding_needs_an_escalation_page() -> None:
    steps = {FINDING: [step("notify", MET), step("stop", MISSING)]}
    lost = remediated_or_escalated([FINDING], steps, {FINDING: []})
    assert not lost.held
    assert lost.detail == f"finding {FINDING}: stop never done and no escalation page"
    assert remediated_or_escalated([FINDING], steps, {FINDING: [1]}).held
    paged_step = {FINDING: [step("stop", MISSING), step("page", MET, "escalation_paged")]}
    assert remediated_or_escalated([FINDING], paged_step, {}).held


def test_a_finding_nobody_watched_or_paged_about_is_lost() -> None:
    verdict = remediated_or_escalated([FINDING, OTHER], {FINDING: [step("stop", MET)]}, {})
    assert verdict.violations == (f"finding {OTHER}: no step observed for it and no escalation page",)


def test_pages_are_read_from_publishes_on_the_escalation_topic() -> None:
    page = {"level": 2, "contact": "ir-lead", "finding_id": FINDING, "reason": "stop failed"}
    entries = [
        entry("Publish", {"TopicArn": "arn:sns:pager", "Message": json.dumps(page)}, service="sns"),
        entry("Publish", {"TopicArn": "arn:sns:pager", "Message": f"about {OTHER}",
                          "MessageAttributes": {"level": {"DataType": "Number", "StringValue": "1"}}}, service="sns"),
        entry("Publish", {"TopicArn": "arn:sns:oncall", "Message": FINDING}, service="sns"),
        entry("Publish", {"TopicArn": "arn:sns:pager", "Message": json.dumps({**page, "level": 3})}, service="sns",
              status=500, error_code="InternalError"),
    ]
    assert pages_from_journal(entries, "arn:sns:pager", [FINDING, OTHER]) == {FINDING: [2], OTHER: [1]}


# ---------------------------------------------------------------- duplicate side effects


def snapshot_call(volume: str, finding: str | None = FINDING) -> JournalEntry:
    tags = [{"ResourceType": "snapshot", "Tags": [{"Key": "gdsim:finding-id", "Value": finding}]}] if finding else []
    return entry("CreateSnapshot", {"VolumeId": volume, "TagSpecifications": tags}, (volume,))


SCOPES = {FINDING: {"i-miner", "eni-miner", "vol-miner1", "vol-miner2"}}


def test_one_snapshot_per_volume_and_one_message_per_topic_level_and_subject() -> None:
    entries = [
        snapshot_call("vol-miner1"), snapshot_call("vol-miner2"),
        entry("Publish", {"TopicArn": "arn:sns:oncall", "Subject": "opened", "Message": FINDING}, service="sns"),
        entry("Publish", {"TopicArn": "arn:sns:oncall", "Subject": "closed", "Message": FINDING}, service="sns"),
        entry("Publish", {"TopicArn": "arn:sns:pager", "Message": json.dumps({"level": 1, "finding_id": FINDING})}),
        entry("Publish", {"TopicArn": "arn:sns:pager", "Message": json.dumps({"level": 2, "finding_id": FINDING})}),
        # Another finding's volume, untagged: charged to no finding here.
        entry("CreateSnapshot", {"VolumeId": "vol-x"}, ("vol-x",)),
    ]
    verdict = no_duplicate_side_effects(entries, SCOPES)
    assert verdict.held, verdict.detail


def test_a_repeated_delivery_that_snapshots_and_notifies_again_is_caught() -> None:
    entries = [
        snapshot_call("vol-miner1"), snapshot_call("vol-miner2"),
        # The second delivery: untagged snapshot (charged by volume) and the same notification again.
        snapshot_call("vol-miner1", None),
        entry("CreateSnapshots", {"InstanceSpecification": {"InstanceId": "i-miner"}}, ("i-miner",)),
        entry("Publish", {"TopicArn": "arn:sns:oncall", "Subject": "s", "Message": FINDING}, service="sns"),
        entry("Publish", {"TopicArn": "arn:sns:oncall", "Subject": "s", "Message": FINDING}, service="sns"),
        # Throttled by chaos: never ran, so not a side effect.
        entry("Publish", {"TopicArn": "arn:sns:oncall", "Subject": "s", "Message": FINDING}, service="sns",
              status=400, error_code="Throttling", fault="throttle"),
    ]
    verdict = no_duplicate_side_effects(entries, SCOPES)
    assert not verdict.held
    assert set(verdict.violations) == {
        f"finding {FINDING}: 3 snapshots of vol-miner1",
        f"finding {FINDING}: 2 snapshots of vol-miner2",
        f"finding {FINDING}: 2 messages on arn:sns:oncall",
    }


# ---------------------------------------------------------------- registry and evaluation


def test_invariants_are_registered_in_order() -> None:
    assert list(registered_invariants()) == [
        "blast_radius", "no_unhandled_errors", "remediated_or_escalated", "no_duplicate_side_effects"]
    assert all(spec.description for spec in registered_invariants().values())


def test_evaluate_invariants_for_the_crypto_scenario(env: ProvisionedEnvironment) -> None:
    from simulator.scenario import load_scenario

    scenario = load_scenario("crypto")
    journal = Journal()
    journal.append(entry("StopInstances", {"InstanceIds": ["i-miner"]}, ("i-miner",)))
    journal.append(entry("Publish", {"TopicArn": "arn:sns:oncall", "Message": FINDING}, ("arn:sns:oncall",),
                         service="sns"))
    journal.append(entry("StopInstances", {"InstanceIds": ["i-neigh"]}, ("i-neigh",), caller=HARNESS))
    steps = [step(s.id, MET, s.expect.kind) for s in scenario.steps]
    common = {"scenario": scenario, "env": env, "journal": journal, "findings": [{"id": FINDING}],
              "steps": steps, "responder_caller": RESPONDER}
    results = evaluate_invariants(**common, invocations=[invocation("ok")])
    assert [(r.id, r.held) for r in results] == [
        ("blast_radius", True), ("no_unhandled_errors", True), ("remediated_or_escalated", True),
        ("no_duplicate_side_effects", True)]

    journal.append(entry("TerminateInstances", {"InstanceIds": ["i-neigh"]}, ("i-neigh",)))
    (radius,) = evaluate_invariants(**common, only=["blast_radius"])
    assert radius.detail == "ec2:TerminateInstances on i-neigh (bystander 'neighbour')"
