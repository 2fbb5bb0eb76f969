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

Configuration (environment): as responders.notify_escalate (ONCALL_TOPIC_ARN, EVIDENCE_BUCKET,
PAGER_TOPIC_ARN / ESCALATION, ESCALATION_CONTACT, PROTECTED_TAG). Safe to repeat per finding id.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from responders.lib import aws
from responders.lib.events import EventRejected
from responders.lib.instance import protection
from responders.lib.network import UnsafeAddress, check_blockable, remotes_of
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
from responders.notify_escalate import Config, Runbook, check_event, ignored, is_sample, reject

aws.preload("s3", "sns")

RESPONDER = "s3-responder"


@dataclass(frozen=True)
class Playbook:
    summary: str
    preserve: bool = False
    deny_caller: bool = False
    block_public: bool = False
    quarantine_objects: bool = False
    page: bool = False


EXPOSED = Playbook("Public exposure: keeping the bucket policy as evidence, then blocking all public access.",
                   preserve=True, block_public=True)
EXFILTRATION = Playbook("Data theft from a known-bad address: keeping the bucket policy as evidence, denying the "
                        "caller's address in it and blocking all public access; paging the on-call.",
                        preserve=True, deny_caller=True, block_public=True, page=True)
TOOLING = Playbook("Calls from penetration-testing tooling: keeping the bucket policy as evidence and denying the "
                   "caller's address; the on-call confirms whether a test was authorised.",
                   preserve=True, deny_caller=True)
MALWARE = Playbook("Malicious object: moving it into the case file, out of the bucket.", quarantine_objects=True)
ANOMALY = Playbook("Unusual access pattern: keeping the bucket policy as evidence for the on-call's review.",
                   preserve=True)

PLAYBOOKS: dict[str, Playbook] = {
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
    config = Config.from_env()
    try:
        finding, finding_id, finding_type = check_event(event, context, PLAYBOOKS.__contains__,
                                                        "the S3 runbook")
        resource = finding.get("resource")
        expected = "S3Object" if PLAYBOOKS[finding_type] is MALWARE else "S3Bucket"
        if not isinstance(resource, dict) or resource.get("resourceType") != expected:
            kind = resource.get("resourceType") if isinstance(resource, dict) else None
            raise EventRejected(f"detail.resource.resourceType {str(kind)[:40]!r} is not {expected!r}", finding_id)
        named = buckets_of(finding)
        if not named:
            raise EventRejected("detail.resource.s3BucketDetails names no valid bucket", finding_id)
        try:
            remotes = remotes_of(finding)
        except UnsafeAddress as exc:
            raise EventRejected(str(exc), finding_id) from None
    except EventRejected as rejected:
        return reject(config, rejected, RESPONDER)
    if is_sample(finding):
        return ignored(finding_id, RESPONDER, "GuardDuty sample finding (made-up resources)")

    s3 = aws.client("s3")
    try:
        present = [bucket for bucket in named if bucket != config.evidence_bucket and bucket_exists(s3, bucket)]
    except Exception as exc:  # still only a read: escalate rather than crash on what the event named
        return reject(config, EventRejected(f"could not read the buckets the finding names: {type(exc).__name__}",
                                            finding_id), RESPONDER)
    if not present:
        return reject(config, EventRejected(f"bucket {named[0]} does not exist in this account", finding_id),
                      RESPONDER)

    runbook = Runbook(RESPONDER, config, finding, finding_id, finding_type)
    summary: dict[str, Any] = {"resource": f"bucket {present[0]}", "buckets": present}
    try:
        if runbook.already_handled():
            return runbook.duplicate(summary)
    except Exception as exc:  # an unreadable case file is no reason to drop the finding: handle it again
        runbook.log(f"could not read the case file ({type(exc).__name__}); handling the finding again")

    playbook = PLAYBOOKS[finding_type]
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
    runbook.notify(" ".join(plan), {k: v for k, v in facts.items() if k != "lookups"},
                   resource=summary["resource"])
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
    return runbook.finish(summary)


def _preserve(runbook: Runbook, s3: Any, bucket: str) -> tuple[str, Any]:
    record = preserve_policy(runbook.case, s3, bucket)
    return ("done" if record["created"] else "already done"), record


def _deny(s3: Any, bucket: str, addresses: list[str]) -> tuple[str, Any]:
    record = deny_addresses(s3, bucket, addresses)
    return ("done" if record["changed"] else "already done"), record


def _block(s3: Any, bucket: str) -> tuple[str, Any]:
    record = block_public_access(s3, bucket)
    return ("done" if record["changed"] else "already done"), record


def _quarantine(runbook: Runbook, s3: Any, ref: Any) -> tuple[str, Any]:
    record = quarantine_object(runbook.case, s3, ref)
    return ("done" if record["changed"] else "already done"), record
