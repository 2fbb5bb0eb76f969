"""Finding timestamps: integer milliseconds inside, ISO-8601 with milliseconds and Z on the wire."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


_hour_prefix: dict[int, str] = {}


def iso_ms(ms: int) -> str:
    """2019-06-09T19:10:08.216Z"""
    hour, rest = divmod(ms, 3_600_000)
    prefix = _hour_prefix.get(hour)
    if prefix is None:
        if len(_hour_prefix) > 4096:
            _hour_prefix.clear()
        prefix = _hour_prefix[hour] = time.strftime("%Y-%m-%dT%H:", time.gmtime(hour * 3600))
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{prefix}{minutes:02d}:{seconds:02d}.{millis:03d}Z"


def iso_seconds(ms: int) -> str:
    """2019-06-09T19:15:01Z (EventBridge envelope time)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def parse_iso(text: str) -> int:
    """Milliseconds since the epoch of an ISO-8601 timestamp (with or without fraction, Z or offset)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    return to_ms(moment)


def epoch_seconds(ms: int) -> float:
    """Nested ``Timestamp`` members are epoch seconds on GuardDuty's REST wire (e.g. 1636625755.218)."""
    return ms / 1000
