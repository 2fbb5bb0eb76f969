"""Value formats GuardDuty and EventBridge use: ISO-8601 times, IP addresses, ids, accounts, regions."""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

# GuardDuty writes "2019-06-09T19:10:08.216Z", "2017-10-31T23:16:23Z" or "...06.000Z"; other
# producers write an offset instead of Z. A space instead of the T, or no zone at all, is not ISO-8601
# as GuardDuty sends it (Panther's test data shows that shape after its own transformation).
_ISO_8601 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$"
)
# EventBridge renders the envelope's time in whole seconds with a Z.
_EVENT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

ACCOUNT_ID = re.compile(r"^\d{12}$")
# us-east-1, us-gov-west-1, cn-north-1, eusc-de-east-1...
REGION = re.compile(r"^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$")
# GuardDuty issues 32 lowercase hex characters; public copies anonymise them to other lengths, and the
# model allows 1-300, so only the alphabet is GuardDuty's own.
LOWER_HEX = re.compile(r"^[0-9a-f]+$")
EVENT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Epoch seconds past this are really milliseconds (it is the year 5138).
EPOCH_SECONDS_LIMIT = 1e11


def parse_iso8601(text: str) -> datetime | None:
    """The instant an ISO-8601 date-time names, or None if it is not one (Z or offset required)."""
    match = _ISO_8601.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if zone == "Z":
        tz = UTC
    else:
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            return None
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz)
    except ValueError:
        return None


def is_event_time(text: str) -> bool:
    return bool(_EVENT_TIME.match(text)) and parse_iso8601(text) is not None


@lru_cache(maxsize=4096)
def ip_version(text: str) -> int | None:
    """4 or 6 for a well-formed address, None otherwise (cached: the same IPs recur across findings)."""
    try:
        return ipaddress.ip_address(text).version
    except ValueError:
        return None


def looks_like_region(text: str) -> bool:
    return bool(REGION.match(text))


@lru_cache(maxsize=256)
def partition_for_region(region: str) -> str | None:
    """The AWS partition a region belongs to, from botocore's endpoint data; None when unknown."""
    from botocore.exceptions import UnknownRegionError
    from botocore.session import get_session

    try:
        return str(get_session().get_partition_for_region(region))
    except UnknownRegionError:
        return None
