"""The one place where events delivered by the emulator are brought back to what AWS delivers.

Every known difference between the emulator's delivery and EventBridge's is repaired here, each with
the reason, so responders see real events and observers never need to compensate silently.
"""

from __future__ import annotations

from typing import Any

# The key order of a real EventBridge event (the documented GuardDuty envelope).
ENVELOPE_KEYS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")


def reconcile_event(delivered: Any, *, account_id: str) -> Any:
    """The delivered event as EventBridge would have delivered it (a new dict; input untouched).

    ``account_id`` is the account that owns the event bus (the sandbox's account).
    """
    if not isinstance(delivered, dict):
        return delivered
    event = dict(delivered)
    if "account" not in event:
        # moto 5.2 omits `account` from events a rule delivers. AWS always sets it, to the account
        # of the bus the event was put on (PutEvents has no account field, so the publisher cannot
        # choose it). Responders read it, e.g. to check a finding belongs to their account.
        event["account"] = account_id
    # moto emits the keys in another order. Order carries no meaning in JSON, but a handler that
    # logs or hashes the raw event should see it as AWS sends it.
    ordered = {key: event[key] for key in ENVELOPE_KEYS if key in event}
    ordered.update((key, value) for key, value in event.items() if key not in ordered)
    return ordered
