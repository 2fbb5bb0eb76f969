"""What a principal did recently, from CloudTrail event history (``LookupEvents``), for the on-call.

LookupEvents takes one lookup attribute per call, so a user is looked up by name and by the key the
finding saw; events found both ways are listed once, newest first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_HOURS = 24.0
DEFAULT_LIMIT = 20


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def recent_activity(cloudtrail: Any, lookups: list[tuple[str, str]], *, hours: float = DEFAULT_HOURS,
                    limit: int = DEFAULT_LIMIT, now: datetime | None = None) -> dict[str, Any]:
    """The newest ``limit`` events matching any (attribute key, value) in ``lookups`` over ``hours``.

    Returns {"looked_up": [...], "window_hours", "events": [{"time", "event", "source", "access_key",
    "read_only", "user"}], "more": bool}.
    """
    end = now or datetime.now(UTC)
    start = end - timedelta(hours=hours)
    found: dict[str, dict[str, Any]] = {}
    more = False
    for key, value in lookups:
        response = cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}],
                                            StartTime=start, EndTime=end, MaxResults=min(limit, 50))
        more = more or bool(response.get("NextToken"))
        for event in response.get("Events", []):
            found.setdefault(str(event.get("EventId")), {
                "time": _when(event.get("EventTime")), "event": event.get("EventName"),
                "source": event.get("EventSource"), "access_key": event.get("AccessKeyId"),
                "read_only": event.get("ReadOnly"), "user": event.get("Username"),
            })
    events = sorted(found.values(), key=lambda item: item["time"], reverse=True)
    return {"looked_up": [f"{key}={value}" for key, value in lookups], "window_hours": hours,
            "events": events[:limit], "more": more or len(events) > limit}
