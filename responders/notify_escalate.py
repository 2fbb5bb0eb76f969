"""Reference responder for findings nobody should contain by machine: gather, notify, escalate.

For EKS clusters, RDS databases, Lambda functions, ECS clusters and attack sequences the harness can
neither build nor safely change the resource, and neither should a generic responder: it gathers what
the finding and read-only look-ups say, keeps it in the case file, tells the on-call and pages level 1
when the finding is serious enough (severity at or above PAGE_MIN_SEVERITY, and every attack sequence),
or names a resource that is not in this account and region.

Configuration (environment): ONCALL_TOPIC_ARN and EVIDENCE_BUCKET (required); PAGER_TOPIC_ARN and
ESCALATION_CONTACT, else from ESCALATION (the scenario's escalation path as JSON); PAGE_MIN_SEVERITY (a
number, or ``never``; default 7); FINDING_TYPES (comma-separated type prefixes to accept; default all);
PROTECTED_TAG (``key`` or ``key=value``, default gdsim:protected).

Safe to repeat per finding id: the case file remembers what was done, so a second delivery, or an
aggregated update that is not newer, changes nothing and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from responders.lib import aws
from responders.lib.casework import CaseConfig, CaseRunbook, check_event, ignore_samples, severity_of
from responders.lib.gather import missing_resources
from responders.lib.runbook import Logger, respond

# Lambda's init phase: parse the API models of the services used (clients still come on first use).
aws.preload("sns", "s3")
log = Logger("notify-escalate")


def _resource_label(facts: Mapping[str, Any]) -> str:
    for key in ("eks_cluster", "db_instance", "lambda_function", "ecs_cluster", "instance_id", "principal"):
        if facts.get(key):
            return f"{key.replace('_', ' ')} {facts[key]}"
    buckets = facts.get("buckets") or []
    if buckets:
        return f"bucket {buckets[0]}"
    resources = (facts.get("sequence") or {}).get("resources") or []
    return f"{resources[0]}" if resources else str(facts.get("resource_type") or "unknown resource")


def handler(event: Any, context: Any) -> dict[str, Any]:
    config = CaseConfig.from_env()
    return respond(config, log, lambda: _respond(config, event, context))


def _respond(config: CaseConfig, event: Any, context: Any) -> dict[str, Any]:
    checked = check_event(event, context, config.accepts, "this responder")
    ignore_samples(checked)
    runbook = CaseRunbook(config, log, checked)
    if runbook.already_handled():
        return runbook.duplicate({})
    facts = runbook.gather()
    resource = _resource_label(facts)
    severity = severity_of(checked.finding)
    threshold = config.page_min_severity
    missing = missing_resources(facts.get("lookups") or {})
    if missing:
        runbook.escalate_for(f"the finding names {', '.join(missing)}, not found in this account and region")
    if checked.finding_type.startswith("AttackSequence:"):
        runbook.escalate_for("attack sequence: several signals of one compromise; needs a responder now")
    elif threshold is not None and severity >= threshold:
        runbook.escalate_for(f"severity {severity:g} is at or above {threshold:g} and this runbook has no "
                             "automated containment")
    paging = bool(runbook.page_reasons)
    runbook.notify_with_facts("Gathered the finding's data into the case file; "
                              + ("paging the on-call: no automated containment." if paging
                                 else "no page at this severity."), facts, resource=resource)
    return runbook.finish({"resource": resource, "lookups": facts.get("lookups")},
                          about=f"{checked.finding_type} on {resource}")
