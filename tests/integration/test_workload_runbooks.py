"""The workload, network and data runbooks against a real moto server.

Two halves. Through the CLI, as a user runs them: every runbook passes with its reference responder, a
responder that does nothing fails every one, and one that quarantines a healthy instance after a failed
brute force breaks the run. Responder by responder, called in this process through a real gateway (it
serves GuardDuty's findings API): what each one changes and what it leaves alone, repeats and
aggregated updates, throttling, limits, and hypothesis properties over valid and hostile findings.
"""

from __future__ import annotations

import ipaddress
import json
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import responder_calls as calls
from hypothesis import HealthCheck, given, settings

from responders import network, notify_escalate, s3
from simulator.findings import aggregate_update, generate_finding, wrap_in_envelope
from simulator.fuzz import HostileFinding, findings
from simulator.gateway import Gateway
from simulator.provision import ProvisionedEnvironment, provision, take_inventory
from simulator.scenario import parse_scenario
from simulator.targets.base import Sandbox

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
RESPONDER_KEY = "AKIARESPONDER0000009"
# ================================================================ through the CLI


OVER_REACTING = '''
"""The reference network responder, plus a quarantine of the instance whatever the runbook says."""
from responders import network
from responders.lib import aws
from responders.lib.instance import describe_instance
from responders.lib.quarantine import isolate_instance, isolation_group


def handler(event, context):
    summary = network.handler(event, context)
    ec2 = aws.client("ec2")
    instance = describe_instance(ec2, summary["instance_id"])
    isolate_instance(ec2, instance, isolation_group(ec2, instance["VpcId"]))
    return summary
'''


def test_quarantining_an_instance_after_a_failed_brute_force_breaks_the_run(tmp_path: Path) -> None:
    responder = tmp_path / "over_reacting.py"
    responder.write_text(OVER_REACTING)
    result = subprocess.run([sys.executable, "-m", "simulator", "--scenario", "unauthorizedaccess-ssh-brute-force",
                             "--seed", "11", "--report-dir", str(tmp_path / "report"),
                             "--responder", f"{responder}:handler"],
                            cwd=ROOT, capture_output=True, text=True, timeout=240)
    report = json.loads((tmp_path / "report" / "report.json").read_text())

    assert result.returncode == 1, result.stdout + result.stderr
    [scenario] = report["scenarios"]
    assert {step["verdict"] for step in scenario["steps"]} == {"met"}  # the runbook's own steps were done...
    blast = next(invariant for invariant in scenario["invariants"] if invariant["id"] == "blast_radius")
    assert blast["held"] is False  # ...but the healthy web server was taken out of service
    assert "bystander 'web'" in blast["detail"] and "ModifyNetworkInterfaceAttribute" in blast["detail"]


# ================================================================ responder by responder

WORLD = """
id: workload-world
title: a small account for the workload responders
threat_purpose: Backdoor
finding_types: ["Backdoor:EC2/C&CActivity.B!DNS"]
urgency: high
problem: the responders' test world
data_to_gather: [everything]
environment:
  vpc: {name: vpc, cidr: 10.40.0.0/16}
  subnets:
    - {name: app-a, cidr: 10.40.1.0/24, zone: a}
    - {name: app-b, cidr: 10.40.2.0/24, zone: b}
  security_groups:
    - {name: web-sg, ingress: [{protocol: tcp, ports: 22, cidr: 0.0.0.0/0}]}
  instances:
    - {name: web, subnet: app-a, security_groups: [web-sg], volumes: [{device: /dev/sdf, size_gb: 8}]}
    - {name: neighbour, subnet: app-b, security_groups: [web-sg], bystander: true}
  buckets:
    - name: data
      block_public_access: false
      objects: {reports/a.csv: "a,b"}
      policy:
        Version: "2012-10-17"
        Statement: [{Sid: PublicRead, Effect: Allow, Principal: "*", Action: "s3:GetObject",
                     Resource: "${data.arn}/*"}]
    - {name: other, bystander: true, block_public_access: false}
    - {name: ir-evidence}
  topics:
    - {name: ir-oncall}
    - {name: pager}
findings:
  - {type: "Backdoor:EC2/C&CActivity.B!DNS", resource: web}
responder:
  handler: responders.network:handler
  rule: {name: world, event_pattern: {source: [aws.guardduty]}}
steps:
  - {id: notify, expect: {kind: notification_delivered, topic: ir-oncall}, within: 5m}
escalation:
  topic: pager
  levels:
    - {level: 1, contact: ir-oncall-primary, after: 0m}
    - {level: 2, contact: ir-lead, after: 15m}
"""


sandbox = calls.light_sandbox  # this module's sandbox, in place of the shared one with managed policies


@dataclass
class World:
    sandbox: Sandbox
    env: ProvisionedEnvironment
    gateway: Gateway
    oncall_queue: str
    pager_queue: str
    rng: random.Random

    def client(self, service: str) -> Any:
        return calls.client_of(self.sandbox, service)

    def id(self, name: str) -> str:
        return str(self.env.resources[name]["id"])

    def acl(self, subnet: str) -> dict[str, Any]:
        return dict(self.client("ec2").describe_network_acls(Filters=[
            {"Name": "association.subnet-id", "Values": [self.id(subnet)]}])["NetworkAcls"][0])

    def added_entries(self, subnet: str) -> list[tuple[bool, int, str, str]]:
        """(egress, rule, action, cidr) of the entries beyond a new ACL's defaults."""
        return sorted((bool(e["Egress"]), e["RuleNumber"], e["RuleAction"], e.get("CidrBlock") or e["Ipv6CidrBlock"])
                      for e in self.acl(subnet)["Entries"] if e["RuleNumber"] not in (100, 32767))

    def finding(self, type_name: str, *, resource: str | None = "web", severity: float | None = None,
                publish: bool = True) -> dict[str, Any]:
        found = generate_finding(type_name, rng=self.rng, account_id=calls.ACCOUNT, region=calls.REGION,
                                 severity=severity, resource=self.env.resources[resource] if resource else None)
        if publish:
            self.gateway.findings.add(found)
        return found


@pytest.fixture
def world(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    calls.reset(sandbox)
    env = provision(parse_scenario(WORLD, tmp_path / "workload-world.yaml"), sandbox, "gdsim-test")
    ec2 = calls.client_of(sandbox, "ec2")
    # The bystander's subnet gets a network ACL of its own, so a change to it would show.
    own_acl = ec2.create_network_acl(VpcId=env.resources["vpc"]["id"])["NetworkAcl"]["NetworkAclId"]
    association = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id",
                                                      "Values": [env.resources["app-b"]["id"]]}])["NetworkAcls"][0]
    [current] = [a for a in association["Associations"] if a["SubnetId"] == env.resources["app-b"]["id"]]
    ec2.replace_network_acl_association(AssociationId=current["NetworkAclAssociationId"], NetworkAclId=own_acl)
    gateway = Gateway(str(sandbox.endpoint_url), region=calls.REGION, account_id=calls.ACCOUNT)
    url = gateway.start()
    oncall, pager = env.resources["ir-oncall"]["arn"], env.resources["pager"]["arn"]
    responder = calls.topic_env(oncall, pager, ESCALATION_CONTACT="secops-primary",
                                EVIDENCE_BUCKET=env.resources["ir-evidence"]["id"])
    for name in ("ESCALATION", "PAGE_MIN_SEVERITY", "FINDING_TYPES", "PROTECTED_TAG"):
        monkeypatch.delenv(name, raising=False)
    try:
        with calls.responder_environment(url, RESPONDER_KEY, responder):
            yield World(sandbox, env, gateway, calls.subscribed_queue(sandbox, oncall, "oncall-inbox"),
                        calls.subscribed_queue(sandbox, pager, "pager"), random.Random(5))
    finally:
        gateway.stop()


CONTEXT = calls.lambda_context("workload-responder")


def run(handler: Callable[[Any, Any], Any], event: Any) -> dict[str, Any]:
    return dict(handler(event, CONTEXT))


def inbox(world: World, queue_url: str) -> list[dict[str, Any]]:
    """The messages waiting in a subscribed queue, decoded."""
    return calls.messages(world.sandbox, queue_url)


def state(world: World, *names: str) -> dict[str, Any]:
    """The inventory of the named resources (all of them when none is named), with the bystander's ACL."""
    inventory = take_inventory(world.sandbox, world.env)
    ids = {rid for name in names for rid in world.env.ids_of(name)} if names else set(inventory)
    picked = {rid: value for rid, value in inventory.items() if rid in ids}
    picked["app-b acl"] = world.acl("app-b")["Entries"]
    return picked


def remote_of(found: dict[str, Any]) -> str:
    return str(found["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]["ipAddressV4"])


# ---------------------------------------------------------------- network


def test_a_failed_brute_force_blocks_the_attacker_and_leaves_the_instance_in_service(world: World) -> None:
    before = state(world, "web", "neighbour")
    found = world.finding("UnauthorizedAccess:EC2/SSHBruteForce", severity=2.0)
    attacker = remote_of(found)

    summary = run(network.handler, wrap_in_envelope(found, rng=world.rng))

    assert summary["status"] == "remediated", summary
    assert summary["plan"]["contain"] is False
    assert world.added_entries("app-a") == [(False, 1, "deny", f"{attacker}/32"), (True, 1, "deny", f"{attacker}/32")]
    assert state(world, "web", "neighbour") == before  # the instance is untouched: not a tag, not a group
    [notice] = inbox(world, world.oncall_queue)
    assert (notice["finding_id"], notice["resource"]) == (found["id"], world.id("web"))
    assert notice["facts"]["remote_parties"][0]["ipv4"] == attacker
    assert inbox(world, world.pager_queue) == []


def test_a_repeat_or_an_update_adds_no_second_entry_and_no_second_message(world: World) -> None:
    found = world.finding("UnauthorizedAccess:EC2/SSHBruteForce", severity=2.0)
    event = wrap_in_envelope(found, rng=world.rng)
    assert run(network.handler, event)["status"] == "remediated"
    inbox(world, world.oncall_queue)
    settled = world.added_entries("app-a")

    again = run(network.handler, event)
    same_attacker = aggregate_update(found, rng=world.rng, occurrences=3)
    same_attacker["service"]["action"] = found["service"]["action"]
    aggregated = run(network.handler, wrap_in_envelope(same_attacker, rng=world.rng))

    assert (again["status"], aggregated["status"]) == ("duplicate", "duplicate")
    assert world.added_entries("app-a") == settled
    assert inbox(world, world.oncall_queue) == [] and inbox(world, world.pager_queue) == []

    # GuardDuty's update names the latest attacker: that address is blocked too, once, and nobody is told again.
    newer = next(update for update in (aggregate_update(same_attacker, rng=world.rng) for _ in range(50))
                 if remote_of(update) != remote_of(found))
    updated = run(network.handler, wrap_in_envelope(newer, rng=world.rng))
    repeated = run(network.handler, wrap_in_envelope(newer, rng=world.rng))

    assert (updated["status"], repeated["status"]) == ("updated", "duplicate")
    added = set(world.added_entries("app-a")) - set(settled)
    assert {(egress, cidr) for egress, _, _, cidr in added} == {(False, f"{remote_of(newer)}/32"),
                                                                (True, f"{remote_of(newer)}/32")}
    assert inbox(world, world.oncall_queue) == [] and inbox(world, world.pager_queue) == []


def _isolated(world: World) -> bool:
    instance = world.client("ec2").describe_instances(InstanceIds=[world.id("web")])["Reservations"][0]["Instances"][0]
    groups = {g["GroupId"] for eni in instance["NetworkInterfaces"] for g in eni["Groups"]}
    rules = world.client("ec2").describe_security_groups(GroupIds=sorted(groups))["SecurityGroups"]
    return world.id("web-sg") not in groups and all(not g["IpPermissions"] and not g["IpPermissionsEgress"]
                                                    for g in rules)


def test_a_brute_force_followed_by_a_compromise_is_contained_and_paged(world: World) -> None:
    compromise = world.finding("Backdoor:EC2/C&CActivity.B!DNS")
    brute_force = world.finding("UnauthorizedAccess:EC2/SSHBruteForce", severity=2.0)

    summary = run(network.handler, wrap_in_envelope(brute_force, rng=world.rng))

    assert summary["status"] == "escalated", summary
    assert _isolated(world)
    snapshots = world.client("ec2").describe_snapshots(OwnerIds=["self"], Filters=[
        {"Name": "tag:gdsim:finding-id", "Values": [brute_force["id"]]}])["Snapshots"]
    assert len(snapshots) == 2  # root and data volume
    [page] = inbox(world, world.pager_queue)
    assert page["finding_id"] == brute_force["id"] and page["level"] == 1
    assert "brute force succeeded" in page["reason"] and compromise["id"] in page["reason"]

    # The compromise finding, routed to the same runbook, looks back and says so too.
    looked_back = run(network.handler, wrap_in_envelope(compromise, rng=world.rng))
    assert looked_back["steps"]["quarantine"]["outcome"] == "already done"
    [page] = inbox(world, world.pager_queue)
    assert page["finding_id"] == compromise["id"] and brute_force["id"] in page["reason"]


def test_a_protected_instance_is_kept_in_service_and_a_human_decides(world: World) -> None:
    world.client("ec2").create_tags(Resources=[world.id("web")], Tags=[{"Key": "gdsim:protected", "Value": "yes"}])

    summary = run(network.handler, wrap_in_envelope(world.finding("Backdoor:EC2/C&CActivity.B!DNS", severity=8.0),
                                                    rng=world.rng))

    assert summary["status"] == "escalated" and "quarantine" not in summary["steps"]
    assert not _isolated(world)
    [page] = inbox(world, world.pager_queue)
    assert "protected (tagged gdsim:protected=yes): not quarantined" in page["reason"]


@pytest.mark.parametrize("address", ["10.40.1.77", "169.254.169.254", "0.0.0.0"])
def test_an_internal_address_named_as_the_attacker_is_never_blocked(world: World, address: str) -> None:
    found = world.finding("UnauthorizedAccess:EC2/SSHBruteForce", severity=2.0)
    found["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]["ipAddressV4"] = address
    before = state(world)

    summary = run(network.handler, wrap_in_envelope(found, rng=world.rng))

    assert summary["status"] == "escalated"
    assert world.added_entries("app-a") == []
    assert state(world) == before
    [page] = inbox(world, world.pager_queue)
    assert f"not blocked: {address} is not a public address" in page["reason"]


def test_a_full_network_acl_is_escalated_with_the_reason(world: World) -> None:
    acl = world.acl("app-a")["NetworkAclId"]
    for number in range(1, 20):
        world.client("ec2").create_network_acl_entry(NetworkAclId=acl, RuleNumber=number, Protocol="-1",
                                                     RuleAction="deny", Egress=False,
                                                     CidrBlock=f"198.18.0.{number}/32")

    summary = run(network.handler, wrap_in_envelope(
        world.finding("UnauthorizedAccess:EC2/SSHBruteForce", severity=2.0), rng=world.rng))

    assert summary["status"] == "escalated"
    assert summary["steps"]["block"]["outcome"] == "failed"
    [page] = inbox(world, world.pager_queue)
    assert "block failed" in page["reason"] and "already has 20 inbound rules" in page["reason"]
    assert len(inbox(world, world.oncall_queue)) == 1  # the on-call heard of the attack all the same


def test_throttled_calls_are_retried_until_they_go_through(world: World) -> None:
    world.gateway.fault_hook, throttled = calls.throttle_twice(RESPONDER_KEY)
    brute_force = world.finding("UnauthorizedAccess:EC2/SSHBruteForce", severity=2.0)
    exfiltration = world.finding("Exfiltration:S3/MaliciousIPCaller", resource="data")

    assert run(network.handler, wrap_in_envelope(brute_force, rng=world.rng))["status"] == "remediated"
    assert run(s3.handler, wrap_in_envelope(exfiltration, rng=world.rng))["status"] == "escalated"

    assert {"CreateNetworkAclEntry", "Publish", "PutObject", "PutBucketPolicy", "PutPublicAccessBlock"} <= set(
        throttled)
    assert len(world.added_entries("app-a")) == 2  # one entry each way, however often the call was retried
    assert len(inbox(world, world.oncall_queue)) == 2 and len(inbox(world, world.pager_queue)) == 1


# ---------------------------------------------------------------- S3


def _evidence(world: World) -> dict[str, tuple[bytes, dict[str, str]]]:
    s3_client, bucket = world.client("s3"), world.id("ir-evidence")
    kept = {}
    for item in s3_client.list_objects_v2(Bucket=bucket).get("Contents", []):
        tags = s3_client.get_object_tagging(Bucket=bucket, Key=item["Key"])["TagSet"]
        if tags:
            body = s3_client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            kept[item["Key"]] = (body, {t["Key"]: t["Value"] for t in tags})
    return kept


def test_exfiltration_keeps_the_policy_then_denies_the_caller_and_blocks_public_access(world: World) -> None:
    s3_client, bucket = world.client("s3"), world.id("data")
    original = json.loads(s3_client.get_bucket_policy(Bucket=bucket)["Policy"])
    bystander = state(world, "other", "neighbour")
    found = world.finding("Exfiltration:S3/MaliciousIPCaller", resource="data")
    caller = found["service"]["action"]["awsApiCallAction"]["remoteIpDetails"]["ipAddressV4"]

    summary = run(s3.handler, wrap_in_envelope(found, rng=world.rng))

    assert summary["status"] == "escalated"  # the playbook pages: someone holds working credentials
    kept = [(json.loads(body), tags) for body, tags in _evidence(world).values()
            if tags.get("gdsim:evidence") == "bucket-policy"]
    assert len(kept) == 1 and kept[0][0]["policy"] == original
    assert kept[0][1]["gdsim:finding-id"] == found["id"] and kept[0][1]["gdsim:source-bucket"] == bucket
    statements = json.loads(s3_client.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert statements[0] == original["Statement"][0]
    assert statements[1]["Effect"] == "Deny"
    assert statements[1]["Condition"] == {"IpAddress": {"aws:SourceIp": [f"{caller}/32"]}}
    assert all(s3_client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    assert state(world, "other", "neighbour") == bystander
    [page] = inbox(world, world.pager_queue)
    assert page["finding_id"] == found["id"]
    assert len(inbox(world, world.oncall_queue)) == 1

    settled = s3_client.get_bucket_policy(Bucket=bucket)["Policy"]
    assert run(s3.handler, wrap_in_envelope(found, rng=world.rng))["status"] == "duplicate"
    assert s3_client.get_bucket_policy(Bucket=bucket)["Policy"] == settled
    assert inbox(world, world.oncall_queue) == [] and inbox(world, world.pager_queue) == []


def test_a_malicious_object_is_moved_into_the_case_file(world: World) -> None:
    s3_client, bucket = world.client("s3"), world.id("data")
    found = world.finding("Object:S3/MaliciousFile", resource="data")
    key = found["resource"]["s3BucketDetails"][0]["s3ObjectDetails"][0]["key"]
    etag = s3_client.put_object(Bucket=bucket, Key=key, Body=b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR")["ETag"]

    summary = run(s3.handler, wrap_in_envelope(found, rng=world.rng))

    assert summary["status"] == "remediated", summary
    assert key not in [item["Key"] for item in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    [(evidence_key, (body, tags))] = [(k, v) for k, v in _evidence(world).items()
                                      if v[1].get("gdsim:evidence") == "quarantined-object"]
    assert body.startswith(b"X5O!P%@AP") and tags["gdsim:finding-id"] == found["id"]
    assert s3_client.head_object(Bucket=world.id("ir-evidence"), Key=evidence_key)["ETag"] == etag
    assert run(s3.handler, wrap_in_envelope(found, rng=world.rng))["status"] == "duplicate"


def test_a_protected_bucket_keeps_its_settings_and_a_human_decides(world: World) -> None:
    s3_client, bucket = world.client("s3"), world.id("data")
    tags = s3_client.get_bucket_tagging(Bucket=bucket)["TagSet"]
    s3_client.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [*tags, {"Key": "gdsim:protected",
                                                                            "Value": "public website"}]})
    before = state(world, "data")

    summary = run(s3.handler, wrap_in_envelope(world.finding("Policy:S3/BucketPublicAccessGranted", resource="data"),
                                               rng=world.rng))

    assert summary["status"] == "escalated"
    assert state(world, "data") == before
    assert [tags["gdsim:evidence"] for _, tags in _evidence(world).values()] == ["bucket-policy"] or sorted(
        tags["gdsim:evidence"] for _, tags in _evidence(world).values()) == ["bucket-policy", "case"]
    [page] = inbox(world, world.pager_queue)
    assert "is protected (tagged gdsim:protected=public website)" in page["reason"]


# ---------------------------------------------------------------- gather, notify, escalate


def test_an_eks_finding_is_gathered_told_and_paged_once(world: World) -> None:
    found = world.finding("Policy:Kubernetes/AnonymousAccessGranted", resource=None)
    cluster = found["resource"]["eksClusterDetails"]["name"]
    event = wrap_in_envelope(found, rng=world.rng)

    summary = run(notify_escalate.handler, event)
    again = run(notify_escalate.handler, event)

    assert (summary["status"], again["status"]) == ("escalated", "duplicate")
    assert summary["lookups"]["eks_cluster"] == {"name": cluster, "found": False,
                                                 "reason": "not in this account and region"}
    [(case, tags)] = [(json.loads(body), tags) for body, tags in _evidence(world).values()]
    assert tags == {"gdsim:finding-id": found["id"], "gdsim:evidence": "case"}
    assert case["eks_cluster"] == cluster and case["finding_type"] == "Policy:Kubernetes/AnonymousAccessGranted"
    [notice] = inbox(world, world.oncall_queue)
    assert notice["resource"] == f"eks cluster {cluster}"
    [page] = inbox(world, world.pager_queue)
    assert page["level"] == 1 and f"eks cluster {cluster}, not found in this account" in page["reason"]
    assert "severity" in page["reason"]


def test_a_low_severity_discovery_on_a_bucket_of_ours_is_told_not_paged(world: World) -> None:
    summary = run(notify_escalate.handler, wrap_in_envelope(
        world.finding("Discovery:S3/AnomalousBehavior", resource="data"), rng=world.rng))

    assert summary["status"] == "remediated", summary
    assert summary["lookups"]["buckets"] == [{"name": world.id("data"), "found": True}]
    assert len(inbox(world, world.oncall_queue)) == 1 and inbox(world, world.pager_queue) == []


# ---------------------------------------------------------------- properties

NETWORK_TYPES = ("UnauthorizedAccess:EC2/SSHBruteForce", "UnauthorizedAccess:EC2/RDPBruteForce",
                 "Impact:EC2/WinRMBruteForce", "Recon:EC2/PortProbeUnprotectedPort", "Behavior:EC2/NetworkPortUnusual",
                 "Backdoor:EC2/C&CActivity.B!DNS", "Trojan:EC2/DNSDataExfiltration", "Execution:EC2/MaliciousFile")
S3_TYPES = ("Policy:S3/BucketPublicAccessGranted", "Policy:S3/BucketBlockPublicAccessDisabled",
            "Exfiltration:S3/MaliciousIPCaller", "PenTest:S3/KaliLinux", "Object:S3/MaliciousFile")
GENERIC_TYPES = ("Policy:Kubernetes/AnonymousAccessGranted", "Discovery:RDS/MaliciousIPCaller",
                 "AttackSequence:S3/CompromisedData", "Discovery:S3/AnomalousBehavior")
HANDLERS: dict[str, Callable[[Any, Any], Any]] = {
    **dict.fromkeys(NETWORK_TYPES, network.handler), **dict.fromkeys(S3_TYPES, s3.handler),
    **dict.fromkeys(GENERIC_TYPES, notify_escalate.handler)}
PROPERTY_SETTINGS = settings(max_examples=20, derandomize=True, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _bind_resource(world: World, found: Any) -> None:
    """Point a fuzzed finding at the world's instance or bucket (the fuzzer draws resources of its own)."""
    resource = found.get("resource") if isinstance(found, dict) else None
    if not isinstance(resource, dict):
        return
    if isinstance(resource.get("instanceDetails"), dict):
        resource["instanceDetails"]["instanceId"] = world.id("web")
    details = resource.get("s3BucketDetails")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        details[0].update(name=world.id("data"), arn=f"arn:aws:s3:::{world.id('data')}")


def _bind(world: World, found: dict[str, Any]) -> dict[str, Any]:
    """Bound to the world, under an id of its own: the fuzzer may draw the same finding twice, which would
    rightly be a repeat, not a new finding."""
    fresh = f"{world.rng.getrandbits(128):032x}"
    found["arn"] = str(found.get("arn", "")).replace(str(found["id"]), fresh)
    found["id"] = fresh
    _bind_resource(world, found)
    return found


def _reset_acl(world: World) -> None:
    acl = world.acl("app-a")
    for entry in acl["Entries"]:
        if entry["RuleNumber"] not in (100, 32767):
            world.client("ec2").delete_network_acl_entry(NetworkAclId=acl["NetworkAclId"],
                                                         RuleNumber=entry["RuleNumber"], Egress=entry["Egress"])


@PROPERTY_SETTINGS
@given(found=findings(tuple(HANDLERS)))
def test_valid_findings_are_handled_and_touch_only_their_own_resources(world: World, found: dict[str, Any]) -> None:
    _reset_acl(world)
    inbox(world, world.oncall_queue)
    inbox(world, world.pager_queue)
    bystanders = state(world, "neighbour", "other")
    found = _bind(world, found)
    world.gateway.findings.add(found)

    summary = run(HANDLERS[found["type"]], wrap_in_envelope(found, rng=world.rng))

    assert summary["status"] in ("remediated", "escalated", "ignored"), summary
    assert state(world, "neighbour", "other") == bystanders
    for entry in world.added_entries("app-a"):
        assert entry[2] == "deny" and ipaddress.ip_network(entry[3]).num_addresses == 1
    pages = inbox(world, world.pager_queue)
    if summary["status"] == "escalated":
        assert [page["reason"] for page in pages] == [summary["reason"]]
    else:
        assert pages == []
    if summary["status"] != "ignored":
        assert [notice["finding_id"] for notice in inbox(world, world.oncall_queue)] == [found["id"]]


def _fresh_events(world: World, hostile: HostileFinding) -> list[dict[str, Any]]:
    """The attack's events, under a finding id of their own unless the id is what the attack breaks (the
    fuzzer may draw one finding twice: the second time it would rightly be a repeat)."""
    events = list(hostile.events) or [wrap_in_envelope(hostile.finding, rng=world.rng)]
    if hostile.target in ("$.id", "$.arn"):
        return events
    fresh = f"{world.rng.getrandbits(128):032x}"
    for event in events:
        detail = event.get("detail") if isinstance(event, dict) else None
        if isinstance(detail, dict) and isinstance(detail.get("id"), str):
            if isinstance(detail.get("arn"), str):
                detail["arn"] = detail["arn"].replace(detail["id"], fresh)
            detail["id"] = fresh
    return events


@PROPERTY_SETTINGS
@given(hostile=findings(tuple(HANDLERS), variant="hostile"))
def test_hostile_findings_never_raise_never_touch_and_are_escalated(world: World, hostile: HostileFinding) -> None:
    inbox(world, world.pager_queue)
    before = state(world)
    events = _fresh_events(world, hostile)
    type_name = hostile.finding.get("type")
    handler = HANDLERS.get(type_name) if isinstance(type_name, str) else None

    summaries = [run(handler or network.handler, event) for event in events]

    assert state(world) == before, hostile.attack
    assert summaries[0]["status"] in ("rejected", "escalated"), (hostile.attack, summaries[0])
    assert all(summary["status"] in ("rejected", "escalated", "duplicate") for summary in summaries[1:])
    pages = inbox(world, world.pager_queue)
    escalated = [summary for summary in summaries if summary["status"] in ("rejected", "escalated")]
    assert [page["reason"] for page in pages] == [summary["reason"] for summary in escalated], hostile.attack
    assert all(page["reason"] and page["level"] == 1 for page in pages)


# Attacks every runbook must refuse even when the finding names the world's own resources.
REFUSED_BY_ALL = frozenset({"foreign-account", "arn-mismatch"})
# ...and those the containing runbooks refuse, having a playbook only for the types and resources they know.
REFUSED_BY_CONTAINERS = frozenset({"unknown-type", "retired-type", "type-resource-mismatch", "lookalike-resource",
                                   "unprovisioned-resource"})
RESOURCE_ATTACKS = frozenset({"unprovisioned-resource", "lookalike-resource"})


def _denied_addresses(world: World) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    policy = json.loads(world.client("s3").get_bucket_policy(Bucket=world.id("data"))["Policy"])
    denied = [block for statement in policy["Statement"] if statement.get("Effect") == "Deny"
              for block in statement.get("Condition", {}).get("IpAddress", {}).get("aws:SourceIp", [])]
    denied += [entry[3] for entry in world.added_entries("app-a") if entry[2] == "deny"]
    return [ipaddress.ip_network(block) for block in denied]


@PROPERTY_SETTINGS
@given(hostile=findings(tuple(HANDLERS), variant="hostile"))
def test_hostile_findings_about_our_own_resources_are_refused_or_handled_safely(
        world: World, hostile: HostileFinding) -> None:
    inbox(world, world.pager_queue)
    bystanders = state(world, "neighbour", "other")
    events = _fresh_events(world, hostile)
    if hostile.attack not in RESOURCE_ATTACKS:
        for event in events:
            _bind_resource(world, event.get("detail") if isinstance(event, dict) else None)
    type_name = hostile.finding.get("type")
    handler = HANDLERS.get(type_name) if isinstance(type_name, str) else None

    summaries = [run(handler or network.handler, event) for event in events]

    assert state(world, "neighbour", "other") == bystanders, hostile.attack
    # Whatever the finding claims, nothing the account uses itself is ever denied.
    assert all(block.network_address.is_global for block in _denied_addresses(world)), hostile.attack
    refused = hostile.attack in REFUSED_BY_ALL or (handler is not notify_escalate.handler
                                                   and hostile.attack in REFUSED_BY_CONTAINERS)
    if refused:
        assert summaries[0]["status"] == "rejected", (hostile.attack, summaries[0])
    pages = inbox(world, world.pager_queue)
    escalated = [summary for summary in summaries if summary["status"] in ("rejected", "escalated")]
    assert [page["reason"] for page in pages] == [summary["reason"] for summary in escalated], hostile.attack
