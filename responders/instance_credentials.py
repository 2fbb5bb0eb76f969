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

from typing import Any

from responders.lib import aws
from responders.lib.events import EventRejected, reading
from responders.lib.facts import call_message
from responders.lib.idempotency import instance_memory
from responders.lib.instance import protection, read_instance, state_of
from responders.lib.instance_profile import remove_instance_profile, roles_of_instance
from responders.lib.intake import Checked, admit
from responders.lib.principal import Caller, caller_of, check_finding_type
from responders.lib.runbook import Logger, Outcome, Runbook, outcome, respond
from responders.lib.sessions import revoke_role_sessions
from responders.lib.settings import Config, Containment
from responders.lib.steps import quarantine, review_activity

ACTIONS = ("revoke_sessions", "remove_profile", "quarantine")
DEFAULT_TYPES = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*"

aws.preload("ec2", "iam", "sns", "cloudtrail")
log = Logger("instance-credentials-responder")


def handler(event: Any, context: Any) -> dict[str, Any]:
    config = Config.from_env()
    settings = Containment.from_env(ACTIONS, DEFAULT_TYPES)
    return respond(config, log, lambda: _respond(config, settings, event, context))


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


def _verified_instance(ec2: Any, iam: Any, checked: Checked, caller: Caller, instance_id: str) -> dict[str, Any]:
    """The instance, read back, proven to carry the role the finding names (reads only)."""
    instance = read_instance(ec2, instance_id, checked.finding_id)
    with reading(f"instance {instance_id}", checked.finding_id):
        roles = roles_of_instance(ec2, iam, instance)
    if caller.name not in roles:
        carried = ", ".join(sorted(roles)) or "no role"
        raise EventRejected(f"instance {instance_id} carries {carried}, not role {caller.name}: "
                            "the finding's role and instance do not match", checked.finding_id)
    return instance


def _respond(config: Config, settings: Containment, event: Any, context: Any) -> dict[str, Any]:
    checked = admit(event, context, lambda finding, finding_id: check_finding_type(
        finding, finding_id, settings.finding_types), wellformed=True)
    caller = caller_of(checked.finding, checked.finding_id)
    instance_id = _instance_named(checked.finding, caller, checked.finding_id)
    ec2, iam = aws.client("ec2"), aws.client("iam")
    instance = _verified_instance(ec2, iam, checked, caller, instance_id)
    runbook = Runbook(config, log, checked, instance_memory(ec2, instance, checked.finding_id))
    role = caller.name
    summary = {"role": role, "instance_id": instance_id, "access_key_id": caller.access_key_id}
    if runbook.already_handled():
        return runbook.duplicate(summary)

    state = state_of(instance)
    protected = protection(instance, config.protected_tag)
    allowed = set(settings.actions)
    if state in ("shutting-down", "terminated"):
        allowed &= {"revoke_sessions"}
        runbook.escalate_for(f"instance {instance_id} is {state}: only the role's sessions were revoked")
    elif protected:
        allowed &= {"revoke_sessions"}
        runbook.escalate_for(f"instance {instance_id} is protected ({protected}): profile and network left as "
                             "they are, only the role's sessions revoked; a human decides")

    # A role session's events carry the session's name: the instance id.
    activity = runbook.step("review_activity", lambda: review_activity(
        aws.client("cloudtrail"), instance_id, caller.access_key_id, settings.activity_hours))
    runbook.notify(f"GuardDuty {checked.finding_type}: role {role} of {instance_id} ({checked.finding_id})",
                   call_message(checked, activity, f"on role {role} and instance {instance_id}: "
                                f"{', '.join(sorted(allowed)) or 'nothing'}", **summary))
    if "revoke_sessions" in allowed:
        runbook.step("revoke_sessions", lambda: ("done", {"role": role, "denied_before": revoke_role_sessions(
            iam, role)}))
    if "remove_profile" in allowed:
        runbook.step("remove_profile", lambda: _remove_profile(ec2, iam, instance))
    if "quarantine" in allowed:
        runbook.step("quarantine", lambda: quarantine(ec2, instance))
    if settings.follow_up:
        runbook.escalate_for(f"follow-up: {settings.follow_up}")
    return runbook.finish({**summary, "contained": sorted(allowed)},
                          about=f"{checked.finding_type} (role {role}, instance {instance_id})")


def _remove_profile(ec2: Any, iam: Any, instance: dict[str, Any]) -> Outcome:
    removed = remove_instance_profile(ec2, iam, instance)
    return outcome(bool(removed), {"disassociated": removed})
