"""Checking an incoming event before acting on it: a responder must act only on what a finding names.

Anything malformed, hostile or not ours raises EventRejected with a short reason that is safe to
page on (values quoted and cut short, never echoed whole).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

FINDING_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
INSTANCE_ID = re.compile(r"^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d$")
GUARDDUTY_ARN = re.compile(r"^arn:aws[a-z-]*:guardduty:([a-z0-9-]+):(\d{12}):detector/[0-9a-zA-Z]{1,64}"
                           r"/finding/([A-Za-z0-9._:-]{1,128})$")


class EventRejected(Exception):
    """The event cannot be acted on; ``reason`` says why, ``finding_id`` if one could be read."""

    def __init__(self, reason: str, finding_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.finding_id = finding_id


class EventIgnored(Exception):
    """The event is well-formed but not for acting on (a sample finding): no change, no page."""

    def __init__(self, reason: str, finding_id: str) -> None:
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


def check_arn(finding: Mapping[str, Any], finding_id: str) -> None:
    """The finding's ARN, when present, must name this very finding in its own account and region."""
    arn = finding.get("arn")
    if arn is None:
        return
    match = GUARDDUTY_ARN.match(arn) if isinstance(arn, str) else None
    if match is None:
        raise EventRejected(f"detail.arn {shown(arn)} is not a GuardDuty finding ARN", finding_id)
    region, account, named = match.groups()
    if named != finding_id or account != finding.get("accountId", account) or region != finding.get("region", region):
        raise EventRejected(f"detail.arn names finding {shown(named)} in {account}/{region}, not this finding",
                            finding_id)


def resource_details(finding: dict[str, Any], finding_id: str, resource_type: str, member: str) -> dict[str, Any]:
    """``resource.<member>`` of a finding about a ``resource_type`` resource."""
    resource = finding.get("resource")
    if not isinstance(resource, dict):
        raise EventRejected("detail.resource is missing", finding_id)
    if resource.get("resourceType") != resource_type:
        raise EventRejected(f"detail.resource.resourceType {shown(resource.get('resourceType'))} is not "
                            f"'{resource_type}'", finding_id)
    details = resource.get(member)
    if not isinstance(details, dict):
        raise EventRejected(f"detail.resource.{member} is missing", finding_id)
    return details


def instance_of(finding: dict[str, Any], finding_id: str) -> dict[str, Any]:
    """``resource.instanceDetails`` with a well-formed instance id."""
    details = resource_details(finding, finding_id, "Instance", "instanceDetails")
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


@contextmanager
def reading(what: str, finding_id: str | None, *, with_message: bool = True) -> Iterator[None]:
    """Reads made on the event's word: one that fails refuses the event (paged, nothing touched) rather
    than crash the handler on what the event named."""
    try:
        yield
    except EventRejected:
        raise
    except Exception as exc:
        message = f": {str(exc)[:200]}" if with_message else ""
        raise EventRejected(f"could not read {what}: {type(exc).__name__}{message}", finding_id) from exc
