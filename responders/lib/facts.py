"""The facts of an API-call finding an on-call needs first: which call, from where, with what tool.

Values are copied out of the finding as bounded strings (never whole sub-documents), so a hostile
finding cannot flood a message or a page.
"""

from __future__ import annotations

from typing import Any

_TEXT_LIMIT = 200


def _text(value: Any) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(value)
        return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 3] + "..."
    return None


def _get(mapping: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


def api_call_facts(finding: dict[str, Any]) -> dict[str, Any]:
    """api, service, remote address, its network and country, user agent, and the resources the call named."""
    call = _get(finding, "service", "action", "awsApiCallAction")
    remote = _get(call, "remoteIpDetails")
    affected = _get(call, "affectedResources")
    facts = {
        "api": _text(_get(call, "api")),
        "service": _text(_get(call, "serviceName")),
        "remote_ip": _text(_get(remote, "ipAddressV4")) or _text(_get(remote, "ipAddressV6")),
        "remote_network": _text(_get(remote, "organization", "asnOrg")),
        "remote_asn": _text(_get(remote, "organization", "asn")),
        "remote_country": _text(_get(remote, "country", "countryName")),
        "user_agent": _text(_get(call, "userAgent")),
        "custom_detection_rule": _text(finding.get("customDetectionRuleName")),
        "count": _get(finding, "service", "count") if isinstance(_get(finding, "service", "count"), int) else None,
    }
    if isinstance(affected, dict):
        facts["affected_resources"] = {str(kind)[:100]: _text(name) for kind, name in list(affected.items())[:10]}
    return {key: value for key, value in facts.items() if value is not None}
