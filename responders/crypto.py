"""Reference responder for CryptoCurrency:EC2/* findings (e.g. CryptoCurrency:EC2/BitcoinTool.B!DNS).

Runbook: notify the IR on-call, quarantine the instance, revoke the role credentials it carries,
snapshot its volumes for forensics, stop it (its auto-scaling group replaces it; never terminate, and
never stop an instance tagged as protected), and escalate with the reason when a step fails.

Configuration (environment): ONCALL_TOPIC_ARN (required); PAGER_TOPIC_ARN and ESCALATION_CONTACT,
the topic and level-1 contact of pages, else taken from ESCALATION (the scenario's escalation path as
JSON: {"topic_arn", "levels": [{"level", "contact", ...}]}); PROTECTED_TAG (``key`` or ``key=value``,
default gdsim:protected).

Safe to repeat per finding id: a second delivery, or GuardDuty's aggregated update of the same
finding, changes nothing and says so. A malformed or foreign event is escalated with the reason and
nothing is touched.
"""

from __future__ import annotations

from typing import Any

from responders.lib import aws
from responders.lib.credentials import revoke_instance_credentials
from responders.lib.events import check_type, instance_of
from responders.lib.idempotency import instance_memory
from responders.lib.instance import check_running, protection, read_instance, stop_instance
from responders.lib.intake import admit
from responders.lib.notify import finding_message
from responders.lib.runbook import Logger, Outcome, Runbook, respond
from responders.lib.settings import Config
from responders.lib.steps import quarantine, snapshot

FINDING_PREFIX = "CryptoCurrency:EC2/"
SUMMARY = "Crypto-mining finding: quarantining, revoking credentials, snapshotting and stopping the instance."

# Lambda's init phase: parse the API models of the services used (clients still come on first use).
aws.preload("ec2", "sns", "iam")
log = Logger("crypto-responder")


def handler(event: Any, context: Any) -> dict[str, Any]:
    config = Config.from_env()
    return respond(config, log, lambda: _contain(config, event, context))


def _contain(config: Config, event: Any, context: Any) -> dict[str, Any]:
    checked = admit(event, context, lambda finding, finding_id: check_type(finding, FINDING_PREFIX, finding_id))
    finding_id = checked.finding_id
    instance_id = instance_of(checked.finding, finding_id)["instanceId"]
    ec2 = aws.client("ec2")
    instance = read_instance(ec2, instance_id, finding_id)
    # A failure is paged every time it happens, so pages are not remembered.
    runbook = Runbook(config, log, checked, instance_memory(ec2, instance, finding_id, pages=False))
    summary = {"instance_id": instance_id}
    if runbook.already_handled():
        return runbook.duplicate(summary)
    check_running(instance, finding_id)

    runbook.notify(f"GuardDuty {checked.finding_type} on {instance_id} ({finding_id})",
                   finding_message(checked.finding, instance_id=instance_id, summary=SUMMARY))
    runbook.step("quarantine", lambda: quarantine(ec2, instance))
    runbook.step("revoke_credentials", lambda: _revoke(ec2, instance))
    runbook.step("snapshot", lambda: snapshot(ec2, instance, finding_id))
    runbook.step("stop", lambda: _stop(config, ec2, instance))
    return runbook.finish(summary, about=f"{FINDING_PREFIX} response on {instance_id} incomplete")


def _revoke(ec2: Any, instance: dict[str, Any]) -> Outcome:
    result = revoke_instance_credentials(ec2, aws.client("iam"), instance)
    if not result["roles"] and not result["disassociated"]:
        return "nothing to do", "the instance carries no role"
    return "done", result


def _stop(config: Config, ec2: Any, instance: dict[str, Any]) -> Outcome:
    protected = protection(instance, config.protected_tag)
    if protected:
        return "skipped", f"instance is protected ({protected}): left running, quarantined"
    what = stop_instance(ec2, instance)
    return ("already done" if what.startswith("already") else "done"), what
