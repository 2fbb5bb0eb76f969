"""Checking an incoming event before acting on it: a responder must act only on what a finding names.

Anything malformed, hostile or not ours raises EventRejected with a short reason that is safe to
page on (values quoted and cut short, never echoed whole).
"""

from __future__ import annotations

import math
import re
from typing import Any

FINDING_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
INSTANCE_ID = re.compile(r"^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d$")


class EventRejected(Exception):
    """The event cannot be acted on; ``reason`` says why, ``finding_id`` if one could be read."""

    def __init__(self, reason: str, finding_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.finding_id = finding_id


def shown(value: Any, limit: int = 48) -> str:
    """A value quoted for a reason string, cut short so hostile input cannot flood a page."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def finding_of(event: Any) -> dict[str, Any]:
    """The finding in an EventBridge GuardDuty event (``detail``)."""
    if not isinstance(event, dict):
        raise EventRejected(f"event is a {type(event).__name__}, not a JSON object")
    detail_type = event.get("detail-type")
    if detail_type is not None and detail_type != "GuardDuty Finding":
        raise EventRejected(f"detail-type {shown(detail_type)} is not 'GuardDuty Finding'")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise EventRejected("event has no detail object (the finding)")
    return detail


def finding_id_of(finding: dict[str, Any]) -> str:
    finding_id = finding.get("id")
    if not isinstance(finding_id, str) or not FINDING_ID.match(finding_id):
        raise EventRejected(f"detail.id {shown(finding_id)} is not a finding id")
    return finding_id


def check_type(finding: dict[str, Any], prefix: str, finding_id: str) -> str:
    finding_type = finding.get("type")
    if not isinstance(finding_type, str) or not finding_type.startswith(prefix):
        raise EventRejected(f"detail.type {shown(finding_type)} is not a {prefix}* finding", finding_id)
    return finding_type


def check_severity(finding: dict[str, Any], finding_id: str) -> float | None:
    severity = finding.get("severity")
    if severity is None:
        return None
    if isinstance(severity, bool) or not isinstance(severity, int | float) or not math.isfinite(severity) \
            or not 0 <= severity <= 10:
        raise EventRejected(f"detail.severity {shown(severity)} is not a number from 0 to 10", finding_id)
    return float(severity)


def check_scope(finding: dict[str, Any], finding_id: str, *, account_id: str | None, region: str) -> None:
    """The finding must be about this account and region, or the ids in it mean something else here."""
    finding_account = finding.get("accountId")
    if finding_account is not None and (not isinstance(finding_account, str)
                                        or not ACCOUNT_ID.match(finding_account)):
        raise EventRejected(f"detail.accountId {shown(finding_account)} is not an account id", finding_id)
    if account_id and finding_account and finding_account != account_id:
        raise EventRejected(f"finding is for account {finding_account}, this responder runs in {account_id}",
                            finding_id)
    finding_region = finding.get("region")
    if finding_region is not None and (not isinstance(finding_region, str) or not REGION.match(finding_region)):
        raise EventRejected(f"detail.region {shown(finding_region)} is not a region", finding_id)
    if finding_region and finding_region != region:
        raise EventRejected(f"finding is for region {finding_region}, this responder runs in {region}", finding_id)


def instance_of(finding: dict[str, Any], finding_id: str) -> dict[str, Any]:
    """``resource.instanceDetails`` with a well-formed instance id."""
    resource = finding.get("resource")
    if not isinstance(resource, dict):
        raise EventRejected("detail.resource is missing", finding_id)
    if resource.get("resourceType") != "Instance":
        raise EventRejected(f"detail.resource.resourceType {shown(resource.get('resourceType'))} is not "
                            "'Instance'", finding_id)
    details = resource.get("instanceDetails")
    if not isinstance(details, dict):
        raise EventRejected("detail.resource.instanceDetails is missing", finding_id)
    instance_id = details.get("instanceId")
    if not isinstance(instance_id, str) or not INSTANCE_ID.match(instance_id):
        raise EventRejected(f"detail.resource.instanceDetails.instanceId {shown(instance_id)} is not an EC2 "
                            "instance id", finding_id)
    return details


def account_of_function(context: Any) -> str | None:
    """The account from ``context.invoked_function_arn`` (None when there is no usable context)."""
    arn = getattr(context, "invoked_function_arn", None)
    if not isinstance(arn, str):
        return None
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and ACCOUNT_ID.match(parts[4]) else None
