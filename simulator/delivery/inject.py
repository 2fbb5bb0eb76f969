"""Put a finding's EventBridge envelope on the bus, the way GuardDuty publishes it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from simulator.errors import InputError, SandboxError
from simulator.targets.base import Sandbox


class InjectionError(SandboxError):
    """EventBridge did not accept the event."""


@dataclass(frozen=True, slots=True)
class Injection:
    event_id: str  # the id EventBridge gave the event; the delivered event carries it as `id`
    mono: float  # time.monotonic() just before PutEvents: the moment SLAs are measured from
    wall: float  # time.time() at the same moment
    acked_mono: float = 0.0  # time.monotonic() when PutEvents returned


def _event_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    raise InputError(f"envelope time {value!r} is not an ISO-8601 timestamp", field="time",
                     fix="use e.g. 2024-01-01T00:00:00Z")


def put_entry(envelope: dict[str, Any]) -> dict[str, Any]:
    """The PutEvents entry for an envelope (source, detail-type, detail, time, resources)."""
    if not isinstance(envelope, dict):
        raise InputError("the event envelope must be a JSON object", fix="wrap the finding in an envelope")
    missing = [key for key in ("source", "detail-type", "detail") if key not in envelope]
    if missing:
        raise InputError(f"the event envelope lacks {', '.join(missing)}", field=missing[0],
                         fix="wrap the finding with simulator.findings.wrap_in_envelope")
    entry: dict[str, Any] = {
        "Source": envelope["source"],
        "DetailType": envelope["detail-type"],
        "Detail": json.dumps(envelope["detail"]),
        "Resources": list(envelope.get("resources") or []),
    }
    when = _event_time(envelope.get("time"))
    if when is not None:
        entry["Time"] = when if when.tzinfo else when.replace(tzinfo=UTC)
    return entry


def inject_event(sandbox: Sandbox, envelope: dict[str, Any], *, event_bus: str = "default",
                 events_client: Any = None) -> Injection:
    """PutEvents one envelope; raises InjectionError when EventBridge refuses it.

    Pass ``events_client`` to reuse one (building a client costs 50-200 ms).
    """
    entry = put_entry(envelope)
    if event_bus != "default":
        entry["EventBusName"] = event_bus
    events = events_client or sandbox.client("events")
    wall = time.time()
    mono = time.monotonic()
    try:
        response = events.put_events(Entries=[entry])
    except ClientError as exc:
        raise InjectionError(f"PutEvents failed: {exc}") from exc
    acked = time.monotonic()
    entries = response.get("Entries") or [{}]
    if response.get("FailedEntryCount") or "EventId" not in entries[0]:
        first = entries[0]
        raise InjectionError(
            f"EventBridge refused the event ({first.get('ErrorCode', 'no event id')}: "
            f"{first.get('ErrorMessage', '')}); source {entry['Source']!r}, detail-type {entry['DetailType']!r}"
        )
    return Injection(event_id=entries[0]["EventId"], mono=mono, wall=wall, acked_mono=acked)
