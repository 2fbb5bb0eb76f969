"""Validate an EventBridge event carrying a GuardDuty finding, and the finding inside it."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from simulator.validate.finding import validate_finding
from simulator.validate.formats import ACCOUNT_ID, EVENT_ID, is_event_time, looks_like_region
from simulator.validate.issues import Issue, child, describe, json_type

GUARDDUTY_SOURCE = "aws.guardduty"
FINDING_DETAIL_TYPE = "GuardDuty Finding"
ENVELOPE_KEYS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")


def looks_like_event(obj: Any) -> bool:
    """An EventBridge envelope rather than a bare finding (findings have no detail member)."""
    return isinstance(obj, dict) and ("detail" in obj or "detail-type" in obj)


def validate_event(obj: Any, *, extra_sources: Collection[str] = (), strict_semantics: bool = True,
                   allow_retired: bool = False, root: str = "$") -> list[Issue]:
    """Every problem with ``obj`` as the EventBridge event GuardDuty publishes for a finding.

    The source must be ``aws.guardduty`` unless listed in ``extra_sources`` (the custom source a
    harness uses on real accounts, where ``aws.*`` sources are refused). The finding in ``detail`` is
    checked by ``validate_finding`` with paths under ``$.detail``.
    """
    if not isinstance(obj, dict):
        return [Issue(root, f"expected an EventBridge event object, got {json_type(obj)}", "type")]
    issues: list[Issue] = []
    for key in obj:
        if key not in ENVELOPE_KEYS:
            issues.append(Issue(child(root, str(key)), f"unknown key: an EventBridge event has only "
                                                       f"{', '.join(ENVELOPE_KEYS)}", "unknown-key"))
    for key in ENVELOPE_KEYS:
        if obj.get(key) is None:
            issues.append(Issue(child(root, key), "required member of the event is missing", "required"))

    def text(key: str) -> str | None:
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            issues.append(Issue(child(root, key), f"expected a string, got {json_type(value)}", "type"))
            return None
        return value

    version = text("version")
    if version is not None and version != "0":
        issues.append(Issue(child(root, "version"), f'{describe(version)}; EventBridge events are version "0"',
                            "event-version"))
    event_id = text("id")
    if event_id is not None and not EVENT_ID.match(event_id):
        issues.append(Issue(child(root, "id"), f"{describe(event_id)} is not an event id (a lowercase UUID)",
                            "event-id"))
    detail_type = text("detail-type")
    if detail_type is not None and detail_type != FINDING_DETAIL_TYPE:
        issues.append(Issue(child(root, "detail-type"), f'{describe(detail_type)}; only "{FINDING_DETAIL_TYPE}" '
                                                        "events carry a finding", "detail-type"))
    source = text("source")
    allowed_sources = (GUARDDUTY_SOURCE, *extra_sources)
    if source is not None and source not in allowed_sources:
        issues.append(Issue(child(root, "source"), f"{describe(source)}; expected "
                                                   f"{' or '.join(allowed_sources)}", "event-source"))
    account = text("account")
    if account is not None and not ACCOUNT_ID.match(account):
        issues.append(Issue(child(root, "account"), f"{describe(account)} is not a 12-digit AWS account id",
                            "account-id"))
    time = text("time")
    if time is not None and not is_event_time(time):
        issues.append(Issue(child(root, "time"), f"{describe(time)}; EventBridge writes whole seconds in UTC "
                                                 "(2024-05-01T12:00:00Z)", "event-time"))
    region = text("region")
    if region is not None and not looks_like_region(region):
        issues.append(Issue(child(root, "region"), f"{describe(region)} is not an AWS region name", "region"))
    resources = obj.get("resources")
    if resources is not None:
        if not isinstance(resources, list):
            issues.append(Issue(child(root, "resources"), f"expected a list, got {json_type(resources)}", "type"))
        else:
            for index, item in enumerate(resources):
                if not isinstance(item, str):
                    issues.append(Issue(f"{child(root, 'resources')}[{index}]",
                                        f"expected a string (an ARN), got {json_type(item)}", "type"))

    detail = obj.get("detail")
    if detail is None or (detail_type is not None and detail_type != FINDING_DETAIL_TYPE):
        return issues
    detail_root = child(root, "detail")
    issues.extend(validate_finding(detail, strict_semantics=strict_semantics, allow_retired=allow_retired,
                                   root=detail_root))
    detail_region = detail.get("region") if isinstance(detail, dict) else None
    if region is not None and isinstance(detail_region, str) and detail_region != region:
        # The account may differ (a delegated administrator receives members' findings); the region not.
        issues.append(Issue(child(root, "region"), f"{region}, but the finding's region is {detail_region}",
                            "region"))
    return issues
