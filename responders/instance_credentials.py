"""Reference responder for UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS (and
.InsideAWS): an EC2 instance's role credentials were used from somewhere else.

Runbook: review what the stolen key did (CloudTrail) and notify the IR on-call with it; revoke the role's
sessions (deny every token issued before now, which includes the stolen one); remove the instance profile
so no new credentials reach the instance; quarantine the instance, which may be the way in (SSRF, a
compromised host). Then page with the reason for whatever is left: a failed step, a protected instance,
or the runbook's follow-up (FOLLOW_UP). An instance tagged protected (PROTECTED_TAG) only has its role's
sessions revoked: the stolen credentials are never left valid.

The finding names the role (userName) and, as the role session's name, the instance; the responder acts
only if the instance really carries that role. Configuration: ONCALL_TOPIC_ARN, PAGER_TOPIC_ARN or
ESCALATION, ESCALATION_CONTACT, PROTECTED_TAG, FINDING_TYPES (default both InstanceCredentialExfiltration
types), ACTIONS (revoke_sessions, remove_profile, quarantine: default all), FOLLOW_UP, ACTIVITY_HOURS.

Safe to repeat per finding id; malformed, foreign or unverifiable events are paged and nothing is touched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from responders.lib import aws
from responders.lib.activity import DEFAULT_HOURS, recent_activity
from responders.lib.events import (
    EventRejected,
    account_of_function,
    check_scope,
    check_severity,
    finding_id_of,
    finding_of,
)
from responders.lib.facts import api_call_facts
from responders.lib.idempotency import HANDLED_TAG, NOTIFIED_TAG, mark, marked
from responders.lib.instance import describe_instance, protection, state_of
from responders.lib.instance_profile import remove_instance_profile, roles_of_instance
from responders.lib.notify import notify
from responders.lib.principal import Caller, caller_of, check_finding_type
from responders.lib.quarantine import isolate_instance, isolation_group
from responders.lib.runbook import (
    Escalation,
    EscalationFailed,
    Logger,
    ResponderConfigError,
    Steps,
    reject,
)
from responders.lib.sessions import revoke_role_sessions
from responders.lib.shape import check_event_size, check_wellformed

ESCALATED_TAG = "gdsim:escalated-finding"
ACTIONS = ("revoke_sessions", "remove_profile", "quarantine")
DEFAULT_TYPES = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*"

aws.preload("ec2", "iam", "sns", "cloudtrail")
log = Logger("instance-credentials-responder")


@dataclass(frozen=True)
class Runbook:
    finding_types: tuple[str, ...]
    actions: tuple[str, ...]
    follow_up: str
    activity_hours: float

    @classmethod
    def from_env(cls) -> Runbook:
        def names(name: str, default: str) -> tuple[str, ...]:
            return tuple(item.strip() for item in os.environ.get(name, default).split(",") if item.strip())

        actions = names("ACTIONS", ",".join(ACTIONS))
        unknown = [action for action in actions if action not in ACTIONS]
        if unknown:
            raise ResponderConfigError(f"ACTIONS: unknown {', '.join(unknown)} (use {', '.join(ACTIONS)})")
        try:
            hours = float(os.environ.get("ACTIVITY_HOURS") or DEFAULT_HOURS)
        except ValueError:
            raise ResponderConfigError("ACTIVITY_HOURS is not a number") from None
        return cls(names("FINDING_TYPES", DEFAULT_TYPES), actions, os.environ.get("FOLLOW_UP", "").strip(), hours)


@dataclass
class Case:
    finding: dict[str, Any]
    finding_id: str
    finding_type: str
    severity: float | None
    caller: Caller
    instance_id: str

    def summary(self, **more: Any) -> dict[str, Any]:
        return {"finding_id": self.finding_id, "finding_type": self.finding_type, "role": self.caller.name,
                "instance_id": self.instance_id, "access_key_id": self.caller.access_key_id, **more}


def _instance_named(finding: dict[str, Any], caller: Caller, finding_id: str) -> str:
    """The instance whose role session the finding names; resource.instanceDetails must agree if present."""
    if caller.kind != "role" or caller.instance_id is None:
        raise EventRejected(f"the caller ({caller.kind} {caller.name}) is not an EC2 instance's role session",
                            finding_id)
    details = (finding.get("resource") or {}).get("instanceDetails")
    if isinstance(details, dict) and details.get("instanceId") not in (None, caller.instance_id):
        raise EventRejected(f"resource.instanceDetails names another instance than the role session "
                            f"({caller.instance_id})", finding_id)
    return caller.instance_id


def handler(event: Any, context: Any) -> dict[str, Any]:
    escalation = Escalation.from_env()
    runbook = Runbook.from_env()
    try:
        finding = finding_of(event)
        finding_id = finding_id_of(finding)
        check_event_size(event, finding_id)
        check_wellformed(finding, finding_id)
        finding_type = check_finding_type(finding, finding_id, runbook.finding_types)
        severity = check_severity(finding, finding_id)
        check_scope(finding, finding_id, account_id=account_of_function(context), region=aws.region())
        caller = caller_of(finding, finding_id)
        case = Case(finding, finding_id, finding_type, severity, caller, _instance_named(finding, caller, finding_id))
        instance = _verified_instance(case)
    except EventRejected as rejected:
        return reject(escalation, rejected, log)
    if marked(instance, HANDLED_TAG, case.finding_id):
        log(f"finding {case.finding_id} was already handled on {case.instance_id}: nothing to do")
        return case.summary(status="duplicate", escalated=False, steps={})

    ec2, iam = aws.client("ec2"), aws.client("iam")
    state = state_of(instance)
    protected = protection(instance, escalation.protected_tag)
    reasons: list[str] = []
    allowed = set(runbook.actions)
    if state in ("shutting-down", "terminated"):
        allowed &= {"revoke_sessions"}
        reasons.append(f"instance {case.instance_id} is {state}: only the role's sessions were revoked")
    elif protected:
        allowed &= {"revoke_sessions"}
        reasons.append(f"instance {case.instance_id} is protected ({protected}): profile and network left as "
                       "they are, only the role's sessions revoked; a human decides")

    steps = Steps(log)
    activity = steps.run("review_activity", lambda: _review(runbook, case))
    steps.run("notify", lambda: _notify(escalation, ec2, case, instance, activity, sorted(allowed)))
    if "revoke_sessions" in allowed:
        steps.run("revoke_sessions", lambda: ("done", {"role": case.caller.name,
                                                       "denied_before": revoke_role_sessions(iam, case.caller.name)}))
    if "remove_profile" in allowed:
        steps.run("remove_profile", lambda: _remove_profile(ec2, iam, instance))
    if "quarantine" in allowed:
        steps.run("quarantine", lambda: _quarantine(ec2, instance))
    reasons = [*steps.failures, *reasons]
    if runbook.follow_up:
        reasons.append(f"follow-up: {runbook.follow_up}")
    summary = case.summary(steps=steps.results, reasons=reasons, contained=sorted(allowed))
    result = _escalate(escalation, ec2, case, instance, reasons, summary)
    if not steps.failures:
        try:
            mark(ec2, case.instance_id, HANDLED_TAG, case.finding_id)
        except Exception as exc:
            result["marker_error"] = f"{type(exc).__name__}: {exc}"
            log(f"could not tag {case.instance_id} as handled: {result['marker_error']}")
    return result


def _verified_instance(case: Case) -> dict[str, Any]:
    """The instance, read back, proven to carry the role the finding names (reads only)."""
    ec2, iam = aws.client("ec2"), aws.client("iam")
    try:
        instance = describe_instance(ec2, case.instance_id)
        roles = roles_of_instance(ec2, iam, instance) if instance is not None else set()
    except Exception as exc:
        raise EventRejected(f"could not read instance {case.instance_id}: {type(exc).__name__}: {str(exc)[:200]}",
                            case.finding_id) from exc
    if instance is None:
        raise EventRejected(f"instance {case.instance_id} does not exist in this account and region", case.finding_id)
    if case.caller.name not in roles:
        carried = ", ".join(sorted(roles)) or "no role"
        raise EventRejected(f"instance {case.instance_id} carries {carried}, not role {case.caller.name}: "
                            "the finding's role and instance do not match", case.finding_id)
    return instance


def _review(runbook: Runbook, case: Case) -> tuple[str, Any]:
    lookups = [("Username", case.instance_id)]  # a role session's events carry the session name
    if case.caller.access_key_id:
        lookups.append(("AccessKeyId", case.caller.access_key_id))
    return "done", recent_activity(aws.client("cloudtrail"), lookups, hours=runbook.activity_hours)


def _notify(escalation: Escalation, ec2: Any, case: Case, instance: dict[str, Any], activity: Any,
            actions: list[str]) -> tuple[str, Any]:
    if marked(instance, NOTIFIED_TAG, case.finding_id):
        return "already done", "on-call was notified by an earlier delivery"
    message = {
        "finding_id": case.finding_id, "finding_type": case.finding_type, "severity": case.severity,
        "account": case.finding.get("accountId"), "region": case.finding.get("region"),
        "title": str(case.finding.get("title", ""))[:300], "instance_id": case.instance_id,
        "role": case.caller.name, "access_key_id": case.caller.access_key_id, "call": api_call_facts(case.finding),
        "recent_activity": activity if activity is not None else "unavailable: the CloudTrail lookup failed",
        "plan": f"on role {case.caller.name} and instance {case.instance_id}: {', '.join(actions) or 'nothing'}",
    }
    message_id = notify(aws.client("sns"), escalation.oncall_topic_arn,
                        subject=f"GuardDuty {case.finding_type}: role {case.caller.name} of {case.instance_id} "
                                f"({case.finding_id})",
                        message=message, attributes={"finding_id": case.finding_id})
    mark(ec2, case.instance_id, NOTIFIED_TAG, case.finding_id)
    return "done", {"message_id": message_id}


def _remove_profile(ec2: Any, iam: Any, instance: dict[str, Any]) -> tuple[str, Any]:
    removed = remove_instance_profile(ec2, iam, instance)
    return ("done" if removed else "already done"), {"disassociated": removed}


def _quarantine(ec2: Any, instance: dict[str, Any]) -> tuple[str, Any]:
    vpc_id = instance.get("VpcId")
    if not vpc_id:
        raise RuntimeError(f"instance {instance['InstanceId']} is in no VPC; cannot isolate it")
    group_id = isolation_group(ec2, vpc_id)
    changed = isolate_instance(ec2, instance, group_id)
    return ("done" if changed else "already done"), {"isolation_group": group_id, "changed": changed}


def _escalate(escalation: Escalation, ec2: Any, case: Case, instance: dict[str, Any], reasons: list[str],
              summary: dict[str, Any]) -> dict[str, Any]:
    if not reasons:
        return {**summary, "status": "remediated", "escalated": False}
    reason = f"{case.finding_type} (role {case.caller.name}, instance {case.instance_id}): " + "; ".join(reasons)
    if marked(instance, ESCALATED_TAG, case.finding_id):
        return {**summary, "status": "escalated", "escalated": True, "reason": reason, "paged": "earlier"}
    try:
        escalation.page(case.finding_id, reason)
    except Exception as exc:
        raise EscalationFailed(f"{reason}; and paging failed: {type(exc).__name__}: {exc}") from exc
    try:
        mark(ec2, case.instance_id, ESCALATED_TAG, case.finding_id)
    except Exception as exc:
        log(f"could not tag {case.instance_id} as paged about: {type(exc).__name__}: {exc}")
    return {**summary, "status": "escalated", "escalated": True, "reason": reason, "paged": "now"}
