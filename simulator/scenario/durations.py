"""Runbook durations as people write them ("90s", "5m", "1h30m") and back."""

from __future__ import annotations

import re

_UNITS: dict[str, float] = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|h|m|s))+")

DURATION_HINT = "write 90s, 5m or 1h30m"


def parse_duration(text: str) -> float:
    """Seconds in ``text``; units go from largest to smallest, each at most once ("1h30m", not "30m1h").

    Raises ValueError with a message that quotes the input.
    """
    compact = text.strip().replace(" ", "") if isinstance(text, str) else None
    if not compact or not _WHOLE.fullmatch(compact):
        raise ValueError(f"{text!r} is not a duration")
    order = list(_UNITS)
    seconds = 0.0
    last_rank = -1
    for number, unit in _PART.findall(compact):
        rank = order.index(unit)
        if rank <= last_rank:
            raise ValueError(f"{text!r} is not a duration: units must go from hours down to milliseconds, once each")
        last_rank = rank
        seconds += float(number) * _UNITS[unit]
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest runbook spelling of ``seconds``: 0s, 90s -> 1m30s, 5400 -> 1h30m, 0.25 -> 250ms."""
    if seconds < 0:
        raise ValueError("durations are never negative")
    if seconds and seconds < 1:
        return f"{round(seconds * 1000)}ms"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{value}{unit}" for value, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if value)
    return text or "0s"
