"""Reference responder for findings about an IAM user's credentials (resource type AccessKey), e.g.
UnauthorizedAccess:IAMUser/MaliciousIPCaller, the IAMUser/AnomalousBehavior family, PenTest:IAMUser/KaliLinux,
custom detection rules, and Policy:IAMUser/RootCredentialUsage.

Runbook: review the user's recent CloudTrail activity and notify the IR on-call with it; then, as the
runbook allows (ACTIONS) and the finding warrants (severity), contain the user: deactivate the access
key the finding names, revoke the sessions its credentials issued, remove its console password. Then
page a human with the reason for whatever is left: a failed step, a protected user, credentials the
finding does not name that are still active, or the runbook's own follow-up (FOLLOW_UP). The root user
is never touched: its findings are notified and paged.

Configuration (environment): ONCALL_TOPIC_ARN; PAGER_TOPIC_ARN and ESCALATION_CONTACT, else from
ESCALATION (the scenario's path as JSON); PROTECTED_TAG (``key`` or ``key=value``, default
gdsim:protected): a user so tagged is not contained but paged about. FINDING_TYPES: the types handled,
comma-separated, exact or ``prefix*`` (default: any). ACTIONS: containment steps, comma-separated, from
deactivate_key, revoke_sessions, remove_console_password (default: all three; empty: none).
CONTAIN_FROM_SEVERITY (default 4.0): below it a human decides on containment. FOLLOW_UP: what a human
must do after containment (pages level 1 with it). ACTIVITY_HOURS: CloudTrail look-back (default 24).

Acts only on the user and the key the finding names. Safe to repeat per finding id: a second delivery,
or GuardDuty's aggregated update of the same finding, changes nothing, notifies and pages no one again,
and says so. A malformed, foreign or unverifiable event is paged with the reason and nothing is touched.
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
from responders.lib.iam_user import (
    access_keys,
    deactivate_access_key,
    describe_user,
    mark_user,
    remaining_credentials,
    remove_console_password,
)
from responders.lib.idempotency import HANDLED_TAG, NOTIFIED_TAG, marked
from responders.lib.instance import protection
from responders.lib.ledger import record, recorded
from responders.lib.notify import notify
from responders.lib.principal import Caller, caller_of, check_finding_type
from responders.lib.runbook import (
    Escalation,
    EscalationFailed,
    Logger,
    ResponderConfigError,
    Steps,
    reject,
)
from responders.lib.sessions import revoke_user_sessions
from responders.lib.shape import check_event_size, check_wellformed

ESCALATED_TAG = "gdsim:escalated-finding"
ACTIONS = ("deactivate_key", "revoke_sessions", "remove_console_password")
DEFAULT_CONTAIN_FROM_SEVERITY = 4.0

aws.preload("iam", "sns", "cloudtrail")
log = Logger("iam-user-responder")


def _number(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise ResponderConfigError(f"{name}={text!r} is not a number") from None


def _names(name: str, default: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, default).split(",") if item.strip())


@dataclass(frozen=True)
class Runbook:
    """What this deployment of the responder may do, from the environment."""

    finding_types: tuple[str, ...]
    actions: tuple[str, ...]
    contain_from_severity: float
    follow_up: str
    activity_hours: float

    @classmethod
    def from_env(cls) -> Runbook:
        actions = _names("ACTIONS", ",".join(ACTIONS))
        unknown = [action for action in actions if action not in ACTIONS]
        if unknown:
            raise ResponderConfigError(f"ACTIONS: unknown {', '.join(unknown)} (use {', '.join(ACTIONS)})")
        hours = _number("ACTIVITY_HOURS", DEFAULT_HOURS)
        if not 0 < hours <= 90 * 24:
            raise ResponderConfigError("ACTIVITY_HOURS must be more than 0 and at most 2160 (CloudTrail's 90 days)")
        return cls(finding_types=_names("FINDING_TYPES", ""), actions=actions,
                   contain_from_severity=_number("CONTAIN_FROM_SEVERITY", DEFAULT_CONTAIN_FROM_SEVERITY),
                   follow_up=os.environ.get("FOLLOW_UP", "").strip(), activity_hours=hours)


@dataclass
class Case:
    """One finding being handled: what it names and what has been decided about it."""

    finding: dict[str, Any]
    finding_id: str
    finding_type: str
    severity: float | None
    caller: Caller

    def summary(self, **more: Any) -> dict[str, Any]:
        return {"finding_id": self.finding_id, "finding_type": self.finding_type, "caller_type": self.caller.kind,
                "caller": self.caller.name, "access_key_id": self.caller.access_key_id, **more}


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
    except EventRejected as rejected:
        return reject(escalation, rejected, log)
    case = Case(finding, finding_id, finding_type, severity, caller)
    if caller.kind == "root":
        return _handle_root(escalation, runbook, case)
    if caller.kind != "user":
        return reject(escalation, EventRejected(
            f"the calls were made by assumed role {caller.name}, not an IAM user: this runbook contains users",
            finding_id), log)
    return _handle_user(escalation, runbook, case)


# -- an IAM user ----------------------------------------------------------------------------------------


def _verified_user(case: Case) -> dict[str, Any]:
    """The user the finding names, read back, with the named key proven to be its own (reads only)."""
    iam = aws.client("iam")
    name, key = case.caller.name, case.caller.access_key_id
    try:
        user = describe_user(iam, name)
        owned = access_keys(iam, name) if user is not None else {}
    except Exception as exc:
        raise EventRejected(f"could not read user {name}: {type(exc).__name__}: {str(exc)[:200]}",
                            case.finding_id) from exc
    if user is None:
        raise EventRejected(f"user {name} does not exist in this account", case.finding_id)
    if key and not case.caller.temporary_key and key not in owned:
        raise EventRejected(f"access key {key} does not belong to user {name}", case.finding_id)
    return user


def _handle_user(escalation: Escalation, runbook: Runbook, case: Case) -> dict[str, Any]:
    try:
        user = _verified_user(case)
    except EventRejected as rejected:
        return reject(escalation, rejected, log)
    name = case.caller.name
    if marked(user, HANDLED_TAG, case.finding_id):
        log(f"finding {case.finding_id} was already handled on user {name}: nothing to do")
        return case.summary(status="duplicate", escalated=False, steps={})

    iam = aws.client("iam")
    held_back = _containment_held_back(escalation, runbook, case, user)
    contain = () if held_back else runbook.actions
    steps = Steps(log)
    activity = steps.run("review_activity", lambda: _review(runbook, case))
    steps.run("notify", lambda: _notify(escalation, case, user, activity, contain, held_back))
    key = case.caller.access_key_id
    if "deactivate_key" in contain:
        if key and not case.caller.temporary_key:
            steps.run("deactivate_key", lambda: _done(deactivate_access_key(iam, name, key), "already inactive"))
        else:
            steps.skip("deactivate_key", "the finding names a temporary key: its sessions are revoked instead")
    if "revoke_sessions" in contain:
        steps.run("revoke_sessions", lambda: ("done", {"denied_before": revoke_user_sessions(iam, name)}))
    if "remove_console_password" in contain:
        steps.run("remove_console_password",
                  lambda: _done(remove_console_password(iam, name), "no console password"))

    remaining = steps.run("remaining_credentials", lambda: ("done", remaining_credentials(
        iam, name, except_key=key, console_password_removed="remove_console_password" in contain))) \
        if contain else None
    reasons = [*steps.failures, *([held_back] if held_back else [])]
    if remaining:
        reasons.append(f"not remediated on user {name}: " + "; ".join(remaining))
    if runbook.follow_up:
        reasons.append(f"follow-up: {runbook.follow_up}")
    summary = case.summary(user=name, contained=list(contain), steps=steps.results, reasons=reasons)
    result = _escalate(escalation, case, reasons, user, name, summary)
    if not steps.failures:
        try:
            mark_user(iam, name, HANDLED_TAG, case.finding_id)
        except Exception as exc:
            # Done; without the marker a repeat delivery re-checks each step, which changes nothing.
            result["marker_error"] = f"{type(exc).__name__}: {exc}"
            log(f"could not tag user {name} as handled: {result['marker_error']}")
    return result


def _containment_held_back(escalation: Escalation, runbook: Runbook, case: Case, user: dict[str, Any]) -> str:
    """Why the runbook's containment is not done automatically for this finding ('' when it is)."""
    if not runbook.actions:
        return ""
    protected = protection(user, escalation.protected_tag)
    if protected:
        return f"user {case.caller.name} is protected ({protected}): not contained, a human decides"
    if case.severity is not None and case.severity < runbook.contain_from_severity:
        return (f"severity {case.severity:g} is below {runbook.contain_from_severity:g}: containment of user "
                f"{case.caller.name} needs a human decision")
    return ""


def _done(what: str, unchanged: str) -> tuple[str, str]:
    return ("already done" if what == unchanged else "done"), what


def _review(runbook: Runbook, case: Case) -> tuple[str, Any]:
    lookups = [("Username", case.caller.name if case.caller.kind != "root" else "root")]
    if case.caller.access_key_id:
        lookups.append(("AccessKeyId", case.caller.access_key_id))
    return "done", recent_activity(aws.client("cloudtrail"), lookups, hours=runbook.activity_hours)


def _message(case: Case, activity: Any, plan: str) -> dict[str, Any]:
    return {
        "finding_id": case.finding_id,
        "finding_type": case.finding_type,
        "severity": case.severity,
        "account": case.finding.get("accountId"),
        "region": case.finding.get("region"),
        "title": str(case.finding.get("title", ""))[:300],
        "caller": {"type": case.caller.kind, "name": case.caller.name, "access_key_id": case.caller.access_key_id},
        "call": api_call_facts(case.finding),
        "recent_activity": activity if activity is not None else "unavailable: the CloudTrail lookup failed",
        "plan": plan,
    }


def _notify(escalation: Escalation, case: Case, user: dict[str, Any], activity: Any, contain: tuple[str, ...],
            held_back: str) -> tuple[str, Any]:
    if marked(user, NOTIFIED_TAG, case.finding_id):
        return "already done", "on-call was notified by an earlier delivery"
    plan = (f"containing user {case.caller.name}: {', '.join(contain)}" if contain
            else held_back or f"no automatic containment for {case.finding_type}: review and follow up")
    message_id = notify(aws.client("sns"), escalation.oncall_topic_arn,
                        subject=f"GuardDuty {case.finding_type} on user {case.caller.name} ({case.finding_id})",
                        message=_message(case, activity, plan), attributes={"finding_id": case.finding_id})
    mark_user(aws.client("iam"), case.caller.name, NOTIFIED_TAG, case.finding_id)
    return "done", {"message_id": message_id}


def _escalate(escalation: Escalation, case: Case, reasons: list[str], user: dict[str, Any] | None, name: str | None,
              summary: dict[str, Any]) -> dict[str, Any]:
    """Page level 1 once per finding when anything is left for a human; the summary says what happened."""
    if not reasons:
        return {**summary, "status": "remediated", "escalated": False}
    reason = f"{case.finding_type} ({case.caller.kind} {case.caller.name}): " + "; ".join(reasons)
    if user is not None and marked(user, ESCALATED_TAG, case.finding_id):
        log(f"finding {case.finding_id} was already paged about: not paging again")
        return {**summary, "status": "escalated", "escalated": True, "reason": reason, "paged": "earlier"}
    try:
        escalation.page(case.finding_id, reason)
    except Exception as exc:
        # Nobody knows what is left to do: fail the invocation so the platform delivers it again.
        raise EscalationFailed(f"{reason}; and paging failed: {type(exc).__name__}: {exc}") from exc
    if name is not None:
        try:
            mark_user(aws.client("iam"), name, ESCALATED_TAG, case.finding_id)
        except Exception as exc:
            log(f"could not tag user {name} as paged about: {type(exc).__name__}: {exc}")
    return {**summary, "status": "escalated", "escalated": True, "reason": reason, "paged": "now"}


# -- the root user: never touched, always paged ------------------------------------------------------------


def _handle_root(escalation: Escalation, runbook: Runbook, case: Case) -> dict[str, Any]:
    ssm = aws.client("ssm")
    try:
        if recorded(ssm, case.finding_id, "handled"):
            log(f"finding {case.finding_id} was already handled: nothing to do")
            return case.summary(status="duplicate", escalated=False, steps={})
        notified = recorded(ssm, case.finding_id, "notified")
    except Exception as exc:
        log(f"could not read what was done before ({type(exc).__name__}: {exc}); handling it now")
        notified = False
    steps = Steps(log)
    activity = steps.run("review_activity", lambda: _review(runbook, case))
    if notified:
        steps.results["notify"] = {"outcome": "already done", "detail": "notified by an earlier delivery"}
    else:
        steps.run("notify", lambda: _notify_root(escalation, case, activity))
    facts = api_call_facts(case.finding)
    used = f"{facts.get('api', 'an API')} from {facts.get('remote_ip', 'an unknown address')}"
    reasons = [*steps.failures, f"root credentials were used ({used}): only a human acts on the root user; "
                                "confirm who used them, then rotate the root password and MFA if nobody did"]
    if runbook.follow_up:
        reasons.append(f"follow-up: {runbook.follow_up}")
    summary = case.summary(steps=steps.results, reasons=reasons, contained=[])
    if recorded_safely(ssm, case.finding_id, "paged"):
        if not steps.failures:
            record_safely(ssm, case.finding_id, "handled")
        return {**summary, "status": "escalated", "escalated": True, "paged": "earlier"}
    result = _escalate(escalation, case, reasons, None, None, summary)
    if result.get("escalated"):
        record_safely(ssm, case.finding_id, "paged")
        if not steps.failures:
            record_safely(ssm, case.finding_id, "handled")
    return result


def _notify_root(escalation: Escalation, case: Case, activity: Any) -> tuple[str, Any]:
    message_id = notify(aws.client("sns"), escalation.oncall_topic_arn,
                        subject=f"GuardDuty {case.finding_type}: root credentials used ({case.finding_id})",
                        message=_message(case, activity, "no automatic action on the root user: paging a human"),
                        attributes={"finding_id": case.finding_id})
    record(aws.client("ssm"), case.finding_id, "notified", message_id)
    return "done", {"message_id": message_id}


def recorded_safely(ssm: Any, finding_id: str, step: str) -> bool:
    try:
        return recorded(ssm, finding_id, step)
    except Exception as exc:
        log(f"could not read the {step} record: {type(exc).__name__}: {exc}")
        return False


def record_safely(ssm: Any, finding_id: str, step: str) -> None:
    try:
        record(ssm, finding_id, step)
    except Exception as exc:
        log(f"could not record {step}: {type(exc).__name__}: {exc}")
