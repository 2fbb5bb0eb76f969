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

from dataclasses import dataclass, replace
from typing import Any, Self

from responders.lib import aws
from responders.lib.events import EventRejected, reading
from responders.lib.facts import api_call_facts, call_message
from responders.lib.iam_user import (
    access_keys,
    deactivate_access_key,
    describe_user,
    remaining_credentials,
    remove_console_password,
    user_memory,
)
from responders.lib.instance import protection
from responders.lib.intake import Checked, admit
from responders.lib.ledger import LedgerMemory
from responders.lib.principal import Caller, caller_of, check_finding_type
from responders.lib.runbook import Logger, Outcome, Runbook, respond
from responders.lib.sessions import revoke_user_sessions
from responders.lib.settings import Config, Containment, env_number
from responders.lib.steps import review_activity

ACTIONS = ("deactivate_key", "revoke_sessions", "remove_console_password")
DEFAULT_CONTAIN_FROM_SEVERITY = 4.0

aws.preload("iam", "sns", "cloudtrail")
log = Logger("iam-user-responder")


@dataclass(frozen=True)
class Settings(Containment):
    """What this deployment of the responder may do, from the environment."""

    contain_from_severity: float = DEFAULT_CONTAIN_FROM_SEVERITY

    @classmethod
    def from_env(cls, actions: tuple[str, ...] = ACTIONS, default_types: str = "") -> Self:
        return replace(super().from_env(actions, default_types), contain_from_severity=env_number(
            "CONTAIN_FROM_SEVERITY", DEFAULT_CONTAIN_FROM_SEVERITY))


def handler(event: Any, context: Any) -> dict[str, Any]:
    config = Config.from_env()
    settings = Settings.from_env()
    return respond(config, log, lambda: _respond(config, settings, event, context))


def _respond(config: Config, settings: Settings, event: Any, context: Any) -> dict[str, Any]:
    checked = admit(event, context, lambda finding, finding_id: check_finding_type(
        finding, finding_id, settings.finding_types), wellformed=True)
    caller = caller_of(checked.finding, checked.finding_id)
    if caller.kind == "root":
        return _handle_root(config, settings, checked, caller)
    if caller.kind != "user":
        raise EventRejected(f"the calls were made by assumed role {caller.name}, not an IAM user: this runbook "
                            "contains users", checked.finding_id)
    return _handle_user(config, settings, checked, caller)


def _summary(caller: Caller, **more: Any) -> dict[str, Any]:
    return {"caller_type": caller.kind, "caller": caller.name, "access_key_id": caller.access_key_id, **more}


def _about(checked: Checked, caller: Caller) -> str:
    return f"{checked.finding_type} ({caller.kind} {caller.name})"


def _review(settings: Settings, caller: Caller) -> Outcome:
    return review_activity(aws.client("cloudtrail"), caller.name if caller.kind != "root" else "root",
                           caller.access_key_id, settings.activity_hours)


# -- an IAM user ----------------------------------------------------------------------------------------


def _verified_user(iam: Any, checked: Checked, caller: Caller) -> dict[str, Any]:
    """The user the finding names, read back, with the named key proven to be its own (reads only)."""
    name, key = caller.name, caller.access_key_id
    with reading(f"user {name}", checked.finding_id):
        user = describe_user(iam, name)
        owned = access_keys(iam, name) if user is not None else {}
    if user is None:
        raise EventRejected(f"user {name} does not exist in this account", checked.finding_id)
    if key and not caller.temporary_key and key not in owned:
        raise EventRejected(f"access key {key} does not belong to user {name}", checked.finding_id)
    return user


def _handle_user(config: Config, settings: Settings, checked: Checked, caller: Caller) -> dict[str, Any]:
    iam = aws.client("iam")
    name, key = caller.name, caller.access_key_id
    user = _verified_user(iam, checked, caller)
    runbook = Runbook(config, log, checked, user_memory(iam, name, user, checked.finding_id))
    if runbook.already_handled():
        return runbook.duplicate(_summary(caller))

    held_back = _containment_held_back(config, settings, checked, caller, user)
    contain = () if held_back else settings.actions
    activity = runbook.step("review_activity", lambda: _review(settings, caller))
    plan = (f"containing user {name}: {', '.join(contain)}" if contain
            else held_back or f"no automatic containment for {checked.finding_type}: review and follow up")
    runbook.notify(f"GuardDuty {checked.finding_type} on user {name} ({checked.finding_id})",
                   _message(checked, caller, activity, plan))
    if "deactivate_key" in contain:
        if key and not caller.temporary_key:
            runbook.step("deactivate_key", lambda: _done(deactivate_access_key(iam, name, key), "already inactive"))
        else:
            runbook.skip("deactivate_key", "the finding names a temporary key: its sessions are revoked instead")
    if "revoke_sessions" in contain:
        runbook.step("revoke_sessions", lambda: ("done", {"denied_before": revoke_user_sessions(iam, name)}))
    if "remove_console_password" in contain:
        runbook.step("remove_console_password",
                     lambda: _done(remove_console_password(iam, name), "no console password"))
    remaining = runbook.step("remaining_credentials", lambda: ("done", remaining_credentials(
        iam, name, except_key=key, console_password_removed="remove_console_password" in contain))) \
        if contain else None

    if held_back:
        runbook.escalate_for(held_back)
    if remaining:
        runbook.escalate_for(f"not remediated on user {name}: " + "; ".join(remaining))
    if settings.follow_up:
        runbook.escalate_for(f"follow-up: {settings.follow_up}")
    return runbook.finish(_summary(caller, user=name, contained=list(contain)), about=_about(checked, caller))


def _containment_held_back(config: Config, settings: Settings, checked: Checked, caller: Caller,
                           user: dict[str, Any]) -> str:
    """Why the runbook's containment is not done automatically for this finding ('' when it is)."""
    if not settings.actions:
        return ""
    protected = protection(user, config.protected_tag)
    if protected:
        return f"user {caller.name} is protected ({protected}): not contained, a human decides"
    if checked.severity is not None and checked.severity < settings.contain_from_severity:
        return (f"severity {checked.severity:g} is below {settings.contain_from_severity:g}: containment of user "
                f"{caller.name} needs a human decision")
    return ""


def _done(what: str, unchanged: str) -> Outcome:
    return ("already done" if what == unchanged else "done"), what


def _message(checked: Checked, caller: Caller, activity: Any, plan: str) -> dict[str, Any]:
    return call_message(checked, activity, plan, caller={"type": caller.kind, "name": caller.name,
                                                         "access_key_id": caller.access_key_id})


# -- the root user: never touched, always paged ------------------------------------------------------------


def _handle_root(config: Config, settings: Settings, checked: Checked, caller: Caller) -> dict[str, Any]:
    runbook = Runbook(config, log, checked, LedgerMemory(aws.client("ssm"), checked.finding_id))
    if runbook.already_handled():
        return runbook.duplicate(_summary(caller))
    activity = runbook.step("review_activity", lambda: _review(settings, caller))
    runbook.notify(f"GuardDuty {checked.finding_type}: root credentials used ({checked.finding_id})",
                   _message(checked, caller, activity, "no automatic action on the root user: paging a human"))
    facts = api_call_facts(checked.finding)
    used = f"{facts.get('api', 'an API')} from {facts.get('remote_ip', 'an unknown address')}"
    runbook.escalate_for(f"root credentials were used ({used}): only a human acts on the root user; confirm who "
                         "used them, then rotate the root password and MFA if nobody did")
    if settings.follow_up:
        runbook.escalate_for(f"follow-up: {settings.follow_up}")
    return runbook.finish(_summary(caller, contained=[]), about=_about(checked, caller))
