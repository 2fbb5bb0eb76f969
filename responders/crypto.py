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

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from responders.lib import aws
from responders.lib.credentials import revoke_instance_credentials
from responders.lib.escalate import page
from responders.lib.events import (
    EventRejected,
    account_of_function,
    check_scope,
    check_severity,
    check_type,
    finding_id_of,
    finding_of,
    instance_of,
)
from responders.lib.idempotency import HANDLED_TAG, NOTIFIED_TAG, mark, marked
from responders.lib.instance import DEFAULT_PROTECTED_TAG, describe_instance, protection, state_of, stop_instance
from responders.lib.notify import finding_message, notify
from responders.lib.quarantine import isolate_instance, isolation_group
from responders.lib.snapshot import snapshot_volumes

FINDING_PREFIX = "CryptoCurrency:EC2/"

# Lambda's init phase: parse the API models of the services used (clients still come on first use).
aws.preload("ec2", "sns", "iam")


class ResponderConfigError(Exception):
    """The responder's environment is incomplete; it cannot even escalate."""


class EscalationFailed(Exception):
    """A step failed and the page about it could not be sent either: let the platform retry."""


@dataclass(frozen=True)
class Config:
    oncall_topic_arn: str
    pager_topic_arn: str
    escalation_contact: str | None
    protected_tag: str

    @classmethod
    def from_env(cls) -> Config:
        ladder = _escalation_path(os.environ.get("ESCALATION"))
        pager = os.environ.get("PAGER_TOPIC_ARN") or ladder.get("topic_arn")
        first: dict[str, Any] = next((level for level in ladder.get("levels", []) if level.get("level") == 1), {})
        missing = [name for name, value in (("ONCALL_TOPIC_ARN", os.environ.get("ONCALL_TOPIC_ARN")),
                                            ("PAGER_TOPIC_ARN", pager)) if not value]
        if missing:
            raise ResponderConfigError(f"set {' and '.join(missing)} in the responder's environment")
        return cls(
            oncall_topic_arn=os.environ["ONCALL_TOPIC_ARN"],
            pager_topic_arn=str(pager),
            escalation_contact=os.environ.get("ESCALATION_CONTACT") or first.get("contact") or None,
            protected_tag=os.environ.get("PROTECTED_TAG") or DEFAULT_PROTECTED_TAG,
        )


def _escalation_path(text: str | None) -> dict[str, Any]:
    """ESCALATION, the scenario's path as JSON: {"topic_arn", "levels": [{"level", "contact", ...}]}."""
    if not text:
        return {}
    try:
        path = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResponderConfigError(f"ESCALATION is not JSON: {exc}") from exc
    if not isinstance(path, dict) or not isinstance(path.get("levels", []), list):
        raise ResponderConfigError("ESCALATION must be an object with topic_arn and a list of levels")
    path["levels"] = [level for level in path.get("levels", []) if isinstance(level, dict)]
    return path


def _log(message: str) -> None:
    print(f"[crypto-responder] {message}")


def _reject(config: Config, rejected: EventRejected) -> dict[str, Any]:
    """Escalate an event we will not act on. Never raises: hostile input must not crash the handler."""
    reason = f"event rejected: {rejected.reason}"
    _log(reason)
    summary: dict[str, Any] = {"status": "rejected", "finding_id": rejected.finding_id, "reason": reason,
                               "escalated": False, "steps": {}}
    try:
        page(aws.client("sns"), config.pager_topic_arn, level=1, contact=config.escalation_contact,
             finding_id=rejected.finding_id, reason=reason)
        summary["escalated"] = True
    except Exception as exc:
        summary["escalation_error"] = f"{type(exc).__name__}: {exc}"
        _log(f"could not page about the rejected event: {summary['escalation_error']}")
    return summary


class _Steps:
    """Runs runbook steps in order; a failing step is recorded and the next one still runs."""

    def __init__(self) -> None:
        self.results: dict[str, dict[str, Any]] = {}
        self.failures: list[str] = []

    def run(self, name: str, action: Callable[[], tuple[str, Any]]) -> None:
        try:
            outcome, detail = action()
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            self.results[name] = {"outcome": "failed", "error": error}
            self.failures.append(f"{name} failed ({error})")
            _log(f"{name}: FAILED {error}")
            return
        self.results[name] = {"outcome": outcome, "detail": detail}
        _log(f"{name}: {outcome} {detail}")


def handler(event: Any, context: Any) -> dict[str, Any]:
    config = Config.from_env()
    try:
        finding = finding_of(event)
        finding_id = finding_id_of(finding)
        finding_type = check_type(finding, FINDING_PREFIX, finding_id)
        check_severity(finding, finding_id)
        check_scope(finding, finding_id, account_id=account_of_function(context), region=aws.region())
        details = instance_of(finding, finding_id)
    except EventRejected as rejected:
        return _reject(config, rejected)
    instance_id = details["instanceId"]

    ec2 = aws.client("ec2")
    try:
        instance = describe_instance(ec2, instance_id)
    except Exception as exc:  # still only a read: escalate rather than crash on what the event named
        return _reject(config, EventRejected(f"could not read instance {instance_id}: {type(exc).__name__}: "
                                             f"{str(exc)[:200]}", finding_id))
    if instance is None:
        return _reject(config, EventRejected(f"instance {instance_id} does not exist in this account and region",
                                             finding_id))
    summary: dict[str, Any] = {"finding_id": finding_id, "finding_type": finding_type, "instance_id": instance_id}
    if marked(instance, HANDLED_TAG, finding_id):
        _log(f"finding {finding_id} was already handled on {instance_id}: nothing to do")
        return {**summary, "status": "duplicate", "escalated": False, "steps": {}}
    state = state_of(instance)
    if state in ("shutting-down", "terminated"):
        return _reject(config, EventRejected(f"instance {instance_id} is {state}: nothing left to contain",
                                             finding_id))

    steps = _Steps()
    steps.run("notify", lambda: _notify(config, ec2, finding, instance))
    steps.run("quarantine", lambda: _quarantine(ec2, instance, finding_id))
    steps.run("revoke_credentials", lambda: _revoke(ec2, instance))
    steps.run("snapshot", lambda: _snapshot(ec2, instance, finding_id))
    steps.run("stop", lambda: _stop(config, ec2, instance))
    summary["steps"] = steps.results

    if steps.failures:
        reason = f"{FINDING_PREFIX} response on {instance_id} incomplete: " + "; ".join(steps.failures)
        try:
            page(aws.client("sns"), config.pager_topic_arn, level=1, contact=config.escalation_contact,
                 finding_id=finding_id, reason=reason)
        except Exception as exc:
            raise EscalationFailed(f"{reason}; and paging failed: {type(exc).__name__}: {exc}") from exc
        return {**summary, "status": "escalated", "escalated": True, "reason": reason}
    result = {**summary, "status": "remediated", "escalated": False}
    try:
        mark(ec2, instance_id, HANDLED_TAG, finding_id)
    except Exception as exc:
        # Everything is done; without the marker a repeat delivery re-checks each step, which is safe.
        result["marker_error"] = f"{type(exc).__name__}: {exc}"
        _log(f"could not tag {instance_id} as handled: {result['marker_error']}")
    return result


def _notify(config: Config, ec2: Any, finding: dict[str, Any], instance: dict[str, Any]) -> tuple[str, Any]:
    finding_id, instance_id = finding["id"], instance["InstanceId"]
    if marked(instance, NOTIFIED_TAG, finding_id):
        return "already done", "on-call was notified by an earlier delivery"
    message = finding_message(finding, instance_id=instance_id,
                              summary="Crypto-mining finding: quarantining, revoking credentials, "
                                      "snapshotting and stopping the instance.")
    message_id = notify(aws.client("sns"), config.oncall_topic_arn,
                        subject=f"GuardDuty {finding.get('type')} on {instance_id} ({finding_id})",
                        message=message, attributes={"finding_id": finding_id})
    mark(ec2, instance_id, NOTIFIED_TAG, finding_id)
    return "done", {"message_id": message_id}


def _quarantine(ec2: Any, instance: dict[str, Any], finding_id: str) -> tuple[str, Any]:
    vpc_id = instance.get("VpcId")
    if not vpc_id:
        raise RuntimeError(f"instance {instance['InstanceId']} is in no VPC; cannot isolate it")
    group_id = isolation_group(ec2, vpc_id)
    changed = isolate_instance(ec2, instance, group_id)
    return ("done" if changed else "already done"), {"isolation_group": group_id, "changed": changed}


def _revoke(ec2: Any, instance: dict[str, Any]) -> tuple[str, Any]:
    result = revoke_instance_credentials(ec2, aws.client("iam"), instance)
    if not result["roles"] and not result["disassociated"]:
        return "nothing to do", "the instance carries no role"
    return "done", result


def _snapshot(ec2: Any, instance: dict[str, Any], finding_id: str) -> tuple[str, Any]:
    records = snapshot_volumes(ec2, instance, finding_id=finding_id)
    if not records:
        return "nothing to do", "no EBS volumes attached"
    return ("done" if any(r["created"] for r in records) else "already done"), records


def _stop(config: Config, ec2: Any, instance: dict[str, Any]) -> tuple[str, Any]:
    protected = protection(instance, config.protected_tag)
    if protected:
        return "skipped", f"instance is protected ({protected}): left running, quarantined"
    what = stop_instance(ec2, instance)
    return ("already done" if what.startswith("already") else "done"), what
