"""Reference responder for findings about an EC2 instance's network behaviour, and what a break-in leaves.

A playbook per finding type says what to do: block the remote addresses at the subnet edge (a network
ACL deny in each direction, ahead of every allow), contain the instance (quarantine in an isolation
group with no rules), snapshot its volumes for forensics, page. The on-call is told first, with the plan.

Brute force (UnauthorizedAccess:EC2/SSHBruteForce, RDPBruteForce, Impact:EC2/WinRMBruteForce): when
the instance is the target, the attacker's address is blocked and the instance stays in service,
unless the attack succeeded. Success shows as a later GuardDuty finding of compromise on the same
instance (command-and-control, trojan traffic, mining, malware, Tor); the runbook looks for one in
GuardDuty (ListFindings on the instance) and, when routed those findings too, looks back from them for
a brute force on their instance. Either way the break-in is contained and paged. An instance that is
itself brute-forcing others is compromised: it is contained, its victim blocked, and the on-call paged.

Severity and tags decide what is allowed: containment needs severity 4 or more (of the finding or of
the compromise it proves), an instance tagged PROTECTED_TAG is never quarantined (a human decides; the
page says so), and addresses the account uses itself (private, metadata, the VPC's ranges, the
instance's own) are never blocked, whatever the finding claims.

Configuration (environment): as responders.lib.casework (ONCALL_TOPIC_ARN, EVIDENCE_BUCKET,
PAGER_TOPIC_ARN / ESCALATION, ESCALATION_CONTACT, PROTECTED_TAG). Safe to repeat per finding id; an
aggregated update that names a new remote address blocks that address only, and notifies nobody again.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from responders.lib import aws
from responders.lib.casework import CaseConfig, CaseRunbook, Playbook, check_event, ignore_samples, severity_of
from responders.lib.events import instance_of
from responders.lib.gather import member
from responders.lib.instance import check_running, protection, read_instance
from responders.lib.network import (
    UnsafeAddress,
    acl_of_subnet,
    block_address,
    check_blockable,
    remotes_named,
    vpc_networks,
)
from responders.lib.runbook import Logger, Outcome, outcome, respond
from responders.lib.steps import quarantine, snapshot

aws.preload("ec2", "sns", "s3", "guardduty")
log = Logger("network-responder")

CONTAIN_MIN_SEVERITY = 4.0
_DETECTOR = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class EC2Playbook(Playbook):
    block: bool = False
    contain: bool = False
    snapshot: bool = False


BRUTE = EC2Playbook("Brute force: blocking the attacker's address in the subnet's network ACL; the instance is "
                    "contained only if the attack succeeded.", block=True)
PROBE = EC2Playbook("Port probe: blocking the probing addresses in the subnet's network ACL; the instance stays in "
                    "service.", block=True)
UNUSUAL = EC2Playbook("Traffic on an unusual port: blocking the remote address in the subnet's network ACL; the "
                      "instance stays in service.", block=True)
C2 = EC2Playbook("Command-and-control traffic: quarantining the instance, snapshotting its volumes and blocking the "
                 "remote address where the finding names one.", block=True, contain=True, snapshot=True)
TROJAN = EC2Playbook("Trojan traffic: quarantining the instance and blocking the remote address where the finding "
                     "names one.", block=True, contain=True)
MALWARE = EC2Playbook("Malicious file: quarantining the instance and snapshotting its volumes for forensics.",
                      contain=True, snapshot=True)
SUSPICIOUS = EC2Playbook("Suspicious file: snapshotting the volumes for analysis; the instance stays in service.",
                         snapshot=True)

PLAYBOOKS: dict[str, EC2Playbook] = {
    "UnauthorizedAccess:EC2/SSHBruteForce": BRUTE,
    "UnauthorizedAccess:EC2/RDPBruteForce": BRUTE,
    "Impact:EC2/WinRMBruteForce": BRUTE,
    "Recon:EC2/PortProbeUnprotectedPort": PROBE,
    "Recon:EC2/PortProbeEMRUnprotectedPort": PROBE,
    "Behavior:EC2/NetworkPortUnusual": UNUSUAL,
    "Backdoor:EC2/C&CActivity.B": C2,
    "Backdoor:EC2/C&CActivity.B!DNS": C2,
    **{f"Trojan:EC2/{name}": TROJAN for name in (
        "BlackholeTraffic", "BlackholeTraffic!DNS", "DNSDataExfiltration", "DropPoint", "DropPoint!DNS",
        "DGADomainRequest.B", "DGADomainRequest.C!DNS", "DriveBySourceTraffic!DNS", "PhishingDomainRequest!DNS")},
    "Execution:EC2/MaliciousFile": MALWARE,
    "Execution:EC2/SuspiciousFile": SUSPICIOUS,
}
BRUTE_FORCE = frozenset(name for name, playbook in PLAYBOOKS.items() if playbook is BRUTE)
# Findings that show an instance is in an attacker's hands.
COMPROMISE_PREFIXES = ("Backdoor:EC2/", "Trojan:EC2/", "CryptoCurrency:EC2/", "Execution:EC2/MaliciousFile",
                       "Execution:Runtime/", "Impact:Runtime/", "Backdoor:Runtime/", "CryptoCurrency:Runtime/",
                       "UnauthorizedAccess:EC2/TorClient", "UnauthorizedAccess:EC2/TorRelay")


def _is_actor(finding: Mapping[str, Any]) -> bool:
    """The instance itself attacked (GuardDuty's ACTOR role, an outbound connection)."""
    service = member(finding, "service")
    connection = member(member(service, "action"), "networkConnectionAction")
    return service.get("resourceRole") == "ACTOR" or connection.get("connectionDirection") == "OUTBOUND"


def _related_findings(finding: Mapping[str, Any], finding_id: str, instance_id: str) -> list[dict[str, Any]]:
    """The other unarchived GuardDuty findings about the same instance (GetFindings items)."""
    guardduty = aws.client("guardduty")
    detector = member(finding, "service").get("detectorId")
    if not (isinstance(detector, str) and _DETECTOR.match(detector)):
        detectors = guardduty.list_detectors().get("DetectorIds", [])
        if not detectors:
            return []
        detector = detectors[0]
    listed = guardduty.list_findings(DetectorId=detector, MaxResults=50, FindingCriteria={"Criterion": {
        "resource.instanceDetails.instanceId": {"Eq": [instance_id]}, "service.archived": {"Eq": ["false"]}}})
    others = [other for other in listed.get("FindingIds", []) if other != finding_id]
    if not others:
        return []
    return list(guardduty.get_findings(DetectorId=detector, FindingIds=others[:50]).get("Findings", []))


def _break_in_evidence(finding_type: str, related: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For a brute force: the compromise findings that prove it worked. For a compromise finding: the
    brute-force attacks on the instance that it shows succeeded."""
    if finding_type in BRUTE_FORCE:
        return [item for item in related if str(item.get("Type", "")).startswith(COMPROMISE_PREFIXES)
                or (item.get("Type") in BRUTE_FORCE and item.get("Service", {}).get("ResourceRole") == "ACTOR")]
    return [item for item in related if item.get("Type") in BRUTE_FORCE
            and item.get("Service", {}).get("ResourceRole") != "ACTOR"]


def _summary_of(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": item.get("Id"), "type": item.get("Type"), "severity": item.get("Severity")} for item in items]


@dataclass
class _Plan:
    block: list[str]
    refused: list[str]
    contain: bool
    snapshot: bool
    why_contain: str | None


def handler(event: Any, context: Any) -> dict[str, Any]:
    config = CaseConfig.from_env()
    return respond(config, log, lambda: _respond(config, event, context))


def _respond(config: CaseConfig, event: Any, context: Any) -> dict[str, Any]:
    checked = check_event(event, context, PLAYBOOKS.__contains__, "the EC2 network runbook")
    finding_id = checked.finding_id
    instance_id = instance_of(checked.finding, finding_id)["instanceId"]
    remotes = remotes_named(checked.finding, finding_id)
    ignore_samples(checked)
    ec2 = aws.client("ec2")
    instance = read_instance(ec2, instance_id, finding_id)
    check_running(instance, finding_id)
    runbook = CaseRunbook(config, log, checked)
    summary: dict[str, Any] = {"resource": instance_id, "instance_id": instance_id}
    if runbook.already_handled():
        return runbook.duplicate(summary)

    playbook = PLAYBOOKS[checked.finding_type]
    facts = runbook.gather(extra={"playbook": playbook.summary})
    plan = _decide(runbook, config, ec2, instance, playbook, remotes)
    summary["plan"] = {"block": plan.block, "refused": plan.refused, "contain": plan.contain,
                       "snapshot": plan.snapshot, "why_contain": plan.why_contain}
    runbook.notify_with_facts(_plan_text(playbook, plan), facts, resource=instance_id)
    if plan.block:
        runbook.step("block", lambda: _block(ec2, instance, plan.block))
    if plan.contain:
        runbook.step("quarantine", lambda: quarantine(ec2, instance))
    if plan.snapshot:
        runbook.step("snapshot", lambda: snapshot(ec2, instance, finding_id))
    if playbook.page:
        runbook.escalate_for(playbook.summary)
    return runbook.finish(summary, about=f"{checked.finding_type} on {instance_id}")


def _decide(runbook: CaseRunbook, config: CaseConfig, ec2: Any, instance: dict[str, Any], playbook: EC2Playbook,
            remotes: list[Any]) -> _Plan:
    """What to do, from reads only: which addresses to block, whether to contain, and why."""
    finding, finding_id, finding_type = runbook.finding, runbook.finding_id, runbook.finding_type
    instance_id = instance["InstanceId"]
    severity = severity_of(finding)
    why: str | None = "the runbook contains every instance with this finding" if playbook.contain else None
    break_in = False
    if finding_type in BRUTE_FORCE and _is_actor(finding):
        why, break_in = "the instance is brute-forcing others: it is in an attacker's hands", True
        runbook.escalate_for(why)
    elif finding_type in BRUTE_FORCE or finding_type.startswith(COMPROMISE_PREFIXES):
        related = runbook.step("check-break-in", lambda: _look_for_break_in(finding, finding_id, finding_type,
                                                                            instance_id))
        if isinstance(related, list) and related:
            ids = ", ".join(f"{item['type']} {item['id']}" for item in related)
            if finding_type in BRUTE_FORCE:
                why = f"the brute force succeeded: GuardDuty reports a compromise of the instance ({ids})"
            else:
                why = f"break-in confirmed: a brute force on this instance preceded it ({ids})"
            break_in = True
            severity = max([severity, *(float(item.get("severity") or 0) for item in related)])
            runbook.escalate_for(why)
    contain = why is not None
    if contain and severity < CONTAIN_MIN_SEVERITY:
        runbook.escalate_for(f"severity {severity:g} is below {CONTAIN_MIN_SEVERITY:g}: containment left to a human")
        contain = False
    protected = protection(instance, config.protected_tag)
    if contain and protected:
        runbook.escalate_for(f"instance {instance_id} is protected ({protected}): not quarantined; a human decides")
        contain = False
    block, refused = _addresses_to_block(ec2, instance, remotes) if playbook.block else ([], [])
    for reason in refused:
        runbook.escalate_for(f"not blocked: {reason}")
    if playbook.block and not remotes and not contain:
        runbook.escalate_for("the finding names no remote address to block")
    snapshot = (playbook.snapshot and severity >= CONTAIN_MIN_SEVERITY) or (break_in and contain)
    return _Plan(block=block, refused=refused, contain=contain, snapshot=snapshot, why_contain=why)


def _look_for_break_in(finding: Mapping[str, Any], finding_id: str, finding_type: str,
                       instance_id: str) -> Outcome:
    """Brute force: a failed look-up leaves success unknown, which a human must settle (the step fails and
    is paged). A compromise finding is contained anyway, so there the look-back is only a remark."""
    try:
        related = _break_in_evidence(finding_type, _related_findings(finding, finding_id, instance_id))
    except Exception as exc:
        if finding_type in BRUTE_FORCE:
            raise
        return "unavailable", f"could not look for an earlier brute force: {type(exc).__name__}"
    return ("found" if related else "none"), _summary_of(related)


def _addresses_to_block(ec2: Any, instance: Mapping[str, Any], remotes: list[Any]) -> tuple[list[str], list[str]]:
    """(addresses to block, reasons others are refused): never the VPC's ranges or the instance's own."""
    own: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    vpc_id = instance.get("VpcId")
    if vpc_id:
        try:
            vpcs = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
        except Exception as exc:  # without the VPC's ranges no address is known to be safe to block
            return [], [f"the ranges of {vpc_id} could not be read ({type(exc).__name__}): nothing blocked"]
        for vpc in vpcs:
            own.extend(vpc_networks(vpc))
    for eni in instance.get("NetworkInterfaces", []):
        public = (eni.get("Association") or {}).get("PublicIp")
        if public:
            own.append(ipaddress.ip_network(public))
    block, refused = [], []
    for remote in remotes:
        try:
            check_blockable(remote.address, own)
        except UnsafeAddress as exc:
            refused.append(str(exc))
            continue
        block.append(remote.address)
    return block, refused


def _plan_text(playbook: EC2Playbook, plan: _Plan) -> str:
    parts = [playbook.summary]
    if plan.block:
        parts.append(f"Blocking {', '.join(plan.block)} in both directions.")
    if plan.contain:
        parts.append(f"Containing the instance: {plan.why_contain}.")
    elif playbook.contain or plan.why_contain:
        parts.append("Not quarantining the instance (see the page for why).")
    else:
        parts.append("The instance stays in service.")
    return " ".join(parts)


def _block(ec2: Any, instance: Mapping[str, Any], addresses: list[str]) -> Outcome:
    subnets = list(dict.fromkeys(eni["SubnetId"] for eni in instance.get("NetworkInterfaces", [])
                                 if eni.get("SubnetId")) or [instance.get("SubnetId")])
    acls = list(dict.fromkeys(acl_of_subnet(ec2, subnet)["NetworkAclId"] for subnet in subnets if subnet))
    records = [block_address(ec2, acl, address, egress=egress)
               for acl in acls for address in addresses for egress in (False, True)]
    return outcome(any(r["created"] for r in records), records)
