"""The facts of an API-call finding an on-call needs first: which call, from where, with what tool.

Values are copied out of the finding as bounded strings (never whole sub-documents), so a hostile
finding cannot flood a message or a page.
"""

from __future__ import annotations

from typing import Any

from responders.lib.gather import dig
from responders.lib.intake import Checked

_TEXT_LIMIT = 200


def _text(value: Any) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(value)
        return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 3] + "..."
    return None


def api_call_facts(finding: dict[str, Any]) -> dict[str, Any]:
    """api, service, remote address, its network and country, user agent, and the resources the call named."""
    call = dig(finding, "service", "action", "awsApiCallAction")
    remote = dig(call, "remoteIpDetails")
    affected = dig(call, "affectedResources")
    facts = {
        "api": _text(dig(call, "api")),
        "service": _text(dig(call, "serviceName")),
        "remote_ip": _text(dig(remote, "ipAddressV4")) or _text(dig(remote, "ipAddressV6")),
        "remote_network": _text(dig(remote, "organization", "asnOrg")),
        "remote_asn": _text(dig(remote, "organization", "asn")),
        "remote_country": _text(dig(remote, "country", "countryName")),
        "user_agent": _text(dig(call, "userAgent")),
        "custom_detection_rule": _text(finding.get("customDetectionRuleName")),
        "count": dig(finding, "service", "count") if isinstance(dig(finding, "service", "count"), int) else None,
    }
    if isinstance(affected, dict):
        facts["affected_resources"] = {str(kind)[:100]: _text(name) for kind, name in list(affected.items())[:10]}
    return {key: value for key, value in facts.items() if value is not None}


def call_message(checked: Checked, activity: Any, plan: str, **who: Any) -> dict[str, Any]:
    """What the on-call is told about an API-call finding: the finding, ``who`` made the calls, the call
    itself, the caller's recent activity (None: the look-up failed) and what the runbook does."""
    finding = checked.finding
    return {
        "finding_id": checked.finding_id,
        "finding_type": checked.finding_type,
        "severity": checked.severity,
        "account": finding.get("accountId"),
        "region": finding.get("region"),
        "title": str(finding.get("title", ""))[:300],
        **who,
        "call": api_call_facts(finding),
        "recent_activity": activity if activity is not None else "unavailable: the CloudTrail lookup failed",
        "plan": plan,
    }
