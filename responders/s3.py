"""Reference responder for findings about S3 buckets and objects: exposure, exfiltration, tooling, malware.

A playbook per finding type says what to do. The on-call is told first, with the plan; then, in this
order because each step keeps what the next one changes: the bucket policy is kept as evidence (a copy
in the case file, tagged with the finding id), the remote address is denied in the bucket policy,
public access is blocked (all four settings), malicious objects are quarantined (copied into the case
file, then deleted). Level 1 is paged when the playbook says so or when something could not be done.

Only buckets the finding names, and that exist in this account, are touched; a named bucket that is not
here is reported in the page. A bucket tagged PROTECTED_TAG (default gdsim:protected) is never changed:
its policy is still kept as evidence, and the page says a human decides. Addresses the account uses
itself (private, metadata, reserved) are never denied, whatever the finding claims.

Configuration (environment): as responders.lib.casework (ONCALL_TOPIC_ARN, EVIDENCE_BUCKET,
PAGER_TOPIC_ARN / ESCALATION, ESCALATION_CONTACT, PROTECTED_TAG). Safe to repeat per finding id.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from responders.lib import aws
from responders.lib.casework import CaseConfig, CaseRunbook, Playbook, check_event, ignore_samples
from responders.lib.events import EventRejected, reading
from responders.lib.instance import protection
from responders.lib.network import UnsafeAddress, check_blockable, remotes_named
from responders.lib.runbook import Logger, Outcome, outcome, respond
from responders.lib.s3 import (
    block_public_access,
    bucket_exists,
    bucket_tags,
    buckets_of,
    deny_addresses,
    objects_of,
    preserve_policy,
    quarantine_object,
)

aws.preload("s3", "sns")
log = Logger("s3-responder")


@dataclass(frozen=True)
class S3Playbook(Playbook):
    preserve: bool = False
    deny_caller: bool = False
    block_public: bool = False
    quarantine_objects: bool = False


EXPOSED = S3Playbook("Public exposure: keeping the bucket policy as evidence, then blocking all public access.",
                     preserve=True, block_public=True)
EXFILTRATION = S3Playbook("Data theft from a known-bad address: keeping the bucket policy as evidence, denying the "
                          "caller's address in it and blocking all public access; paging the on-call.",
                          preserve=True, deny_caller=True, block_public=True, page=True)
TOOLING = S3Playbook("Calls from penetration-testing tooling: keeping the bucket policy as evidence and denying the "
                     "caller's address; the on-call confirms whether a test was authorised.",
                     preserve=True, deny_caller=True)
MALWARE = S3Playbook("Malicious object: moving it into the case file, out of the bucket.", quarantine_objects=True)
ANOMALY = S3Playbook("Unusual access pattern: keeping the bucket policy as evidence for the on-call's review.",
                     preserve=True)

PLAYBOOKS: dict[str, S3Playbook] = {
    "Policy:S3/BucketBlockPublicAccessDisabled": EXPOSED,
    "Policy:S3/BucketPublicAccessGranted": EXPOSED,
    "Policy:S3/BucketAnonymousAccessGranted": EXPOSED,
    "Exfiltration:S3/MaliciousIPCaller": EXFILTRATION,
    "Exfiltration:S3/AnomalousBehavior": EXFILTRATION,
    "Impact:S3/MaliciousIPCaller": EXFILTRATION,
    "Discovery:S3/MaliciousIPCaller": EXFILTRATION,
    "Discovery:S3/MaliciousIPCaller.Custom": EXFILTRATION,
    "Discovery:S3/TorIPCaller": TOOLING,
    "PenTest:S3/KaliLinux": TOOLING,
    "PenTest:S3/ParrotLinux": TOOLING,
    "PenTest:S3/PentooLinux": TOOLING,
    "Object:S3/MaliciousFile": MALWARE,
    "Discovery:S3/AnomalousBehavior": ANOMALY,
    "Impact:S3/AnomalousBehavior.Permission": ANOMALY,
}


def handler(event: Any, context: Any) -> dict[str, Any]:
    config = CaseConfig.from_env()
    return respond(config, log, lambda: _respond(config, event, context))


def _respond(config: CaseConfig, event: Any, context: Any) -> dict[str, Any]:
    checked = check_event(event, context, PLAYBOOKS.__contains__, "the S3 runbook")
    finding, finding_id = checked.finding, checked.finding_id
    playbook = PLAYBOOKS[checked.finding_type]
    resource = finding.get("resource")
    expected = "S3Object" if playbook is MALWARE else "S3Bucket"
    if not isinstance(resource, dict) or resource.get("resourceType") != expected:
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        raise EventRejected(f"detail.resource.resourceType {str(kind)[:40]!r} is not {expected!r}", finding_id)
    named = buckets_of(finding)
    if not named:
        raise EventRejected("detail.resource.s3BucketDetails names no valid bucket", finding_id)
    remotes = remotes_named(finding, finding_id)
    ignore_samples(checked)

    s3 = aws.client("s3")
    with reading("the buckets the finding names", finding_id, with_message=False):
        present = [bucket for bucket in named if bucket != config.evidence_bucket and bucket_exists(s3, bucket)]
    if not present:
        raise EventRejected(f"bucket {named[0]} does not exist in this account", finding_id)

    runbook = CaseRunbook(config, log, checked)
    summary: dict[str, Any] = {"resource": f"bucket {present[0]}", "buckets": present}
    if runbook.already_handled():
        return runbook.duplicate(summary)

    changeable = []
    for bucket in present:
        try:
            protected = protection({"Tags": bucket_tags(s3, bucket)}, config.protected_tag)
        except Exception as exc:
            protected = f"its tags could not be read ({type(exc).__name__})"
        if protected:
            runbook.escalate_for(f"bucket {bucket} is protected ({protected}): evidence kept, nothing changed; "
                                 "a human decides")
        else:
            changeable.append(bucket)
    absent = [bucket for bucket in named if bucket not in present]
    if absent:
        runbook.escalate_for(f"the finding also names {', '.join(absent)}, not in this account: left alone")
    deny: list[str] = []
    if playbook.deny_caller:
        for remote in remotes:
            try:
                check_blockable(remote.address)
            except UnsafeAddress as exc:
                runbook.escalate_for(f"not denied: {exc}")
                continue
            deny.append(remote.address)
        if not remotes:
            runbook.escalate_for("the finding names no caller address to deny")
    objects = [ref for ref in objects_of(finding) if ref.bucket in changeable] if playbook.quarantine_objects else []
    if playbook.quarantine_objects and not objects and changeable:
        runbook.escalate_for("the finding names no object in a bucket of this account")

    facts = runbook.gather(extra={"playbook": playbook.summary})
    plan = [playbook.summary] + ([f"Denying {', '.join(deny)}."] if deny else [])
    runbook.notify_with_facts(" ".join(plan), facts, resource=summary["resource"])
    for bucket in present:
        if playbook.preserve:
            runbook.step(f"preserve-policy:{bucket}", partial(_preserve, runbook, s3, bucket))
        if bucket not in changeable:
            continue
        if deny:
            runbook.step(f"deny-caller:{bucket}", partial(_deny, s3, bucket, deny))
        if playbook.block_public:
            runbook.step(f"block-public-access:{bucket}", partial(_block, s3, bucket))
    for ref in objects:
        runbook.step(f"quarantine-object:{ref.bucket}", partial(_quarantine, runbook, s3, ref))
    if playbook.page:
        runbook.escalate_for(playbook.summary)
    return runbook.finish(summary, about=f"{checked.finding_type} on {summary['resource']}")


def _preserve(runbook: CaseRunbook, s3: Any, bucket: str) -> Outcome:
    record = preserve_policy(runbook.case, s3, bucket)
    return outcome(record["created"], record)


def _deny(s3: Any, bucket: str, addresses: list[str]) -> Outcome:
    record = deny_addresses(s3, bucket, addresses)
    return outcome(record["changed"], record)


def _block(s3: Any, bucket: str) -> Outcome:
    record = block_public_access(s3, bucket)
    return outcome(record["changed"], record)


def _quarantine(runbook: CaseRunbook, s3: Any, ref: Any) -> Outcome:
    record = quarantine_object(runbook.case, s3, ref)
    return outcome(record["changed"], record)
