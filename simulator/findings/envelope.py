"""The EventBridge event GuardDuty publishes for a finding (detail-type "GuardDuty Finding")."""

from __future__ import annotations

import random
from datetime import datetime

from simulator.errors import InputError
from simulator.findings import ids
from simulator.findings.clock import iso_seconds, now_ms, parse_iso, to_ms
from simulator.findings.values import between
from simulator.findings.wire import dumps

DETAIL_TYPE = "GuardDuty Finding"
SOURCE = "aws.guardduty"
FALLBACK_ACCOUNT = "000000000000"
FALLBACK_REGION = "us-east-1"


def _text(finding: dict, key: str) -> str:
    value = finding.get(key) if isinstance(finding, dict) else None
    return value if isinstance(value, str) else ""


def _updated_ms(finding: dict) -> int | None:
    try:
        return parse_iso(_text(finding, "updatedAt"))
    except ValueError:
        return None


def envelope_fields(finding: dict, *, rng: random.Random | None = None, time: datetime | None = None,
                    account: str | None = None, region: str | None = None) -> dict:
    """Every envelope member but ``detail``. Tolerates malformed findings (hostile inputs get wrapped too)."""
    updated = _updated_ms(finding)
    if time is not None:
        event_ms = to_ms(time)
        if updated is not None and event_ms < updated:
            raise InputError(f"event time {time.isoformat()} is before the finding's updatedAt "
                             f"{_text(finding, 'updatedAt')}", field="time",
                             fix="GuardDuty publishes a finding after it is updated; use a later time")
    else:
        # A finding without a readable updatedAt (hostile input) is published "now".
        event_ms = (updated if updated is not None else now_ms()) + publishing_delay(rng)
    if rng is not None:
        event_id = ids.rng_uuid(rng)
    else:
        # Without an rng the id follows the finding's state: re-wrapping the same state is a duplicate.
        count = (finding.get("service") or {}).get("count") if isinstance(finding, dict) else ""
        event_id = ids.stable_uuid(f"{_text(finding, 'arn')}|{_text(finding, 'updatedAt')}|{count}")
    return event_header(event_id, account or _text(finding, "accountId") or FALLBACK_ACCOUNT,
                        region or _text(finding, "region") or FALLBACK_REGION, event_ms)


def publishing_delay(rng: random.Random | None) -> int:
    """Milliseconds between a finding's update and its event: 5 s to 5 min (GuardDuty's first-publication window)."""
    return between(rng, 5, 300) * 1000 if rng is not None else 0


def event_header(event_id: str, account: str, region: str, event_ms: int) -> dict:
    """The envelope without its detail; the time is rounded up to whole seconds, never before the update."""
    return {"version": "0", "id": event_id, "detail-type": DETAIL_TYPE, "source": SOURCE, "account": account,
            "time": iso_seconds(-(-event_ms // 1000) * 1000), "region": region, "resources": []}


def wrap_in_envelope(finding: dict, *, rng: random.Random | None = None, time: datetime | None = None,
                     account: str | None = None, region: str | None = None) -> dict:
    """The EventBridge event carrying ``finding`` as its ``detail``.

    ``time`` defaults to the finding's updatedAt plus a publishing delay drawn from ``rng`` (5 s to 5 min),
    in whole seconds. ``account`` overrides the envelope account, as on a delegated administrator's copy.
    """
    event = envelope_fields(finding, rng=rng, time=time, account=account, region=region)
    event["detail"] = finding
    return event


def envelope_line(detail_json: str, fields: dict) -> str:
    """An event as one JSON line from an already serialised finding (the generator's fast path)."""
    head = dumps(fields)
    return f'{head[:-1]},"detail":{detail_json}}}'
