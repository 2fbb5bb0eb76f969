"""Observers: watch the sandbox and date the first moment each step's expectation holds.

One observer class per expectation kind, registered with :func:`register`; the scenario validator
accepts exactly :func:`registered_kinds`. :class:`ObservationLoop` polls them after injection and dates
each effect by the gateway journal.
"""

import simulator.observers.escalation  # registers escalation_not_paged
import simulator.observers.identity  # registers user_sessions_revoked, instance_profile_replaced, cloudtrail_reviewed
import simulator.observers.network  # registers remote_ip_blocked
import simulator.observers.storage  # noqa: F401  (registers the S3 and evidence expectation kinds)
from simulator.observers.base import FINDING_TAG, Observer, finding_id_of
from simulator.observers.loop import Observation, ObservationLoop, attribute
from simulator.observers.registry import (
    KindSpec,
    check_params,
    create_observer,
    register,
    registered_kinds,
)


def registered_expectation_kinds() -> dict[str, KindSpec]:
    """Alias of :func:`registered_kinds` under the name the scenario validator looks up."""
    return registered_kinds()


__all__ = [
    "FINDING_TAG",
    "KindSpec",
    "Observation",
    "ObservationLoop",
    "Observer",
    "attribute",
    "check_params",
    "create_observer",
    "finding_id_of",
    "register",
    "registered_expectation_kinds",
    "registered_kinds",
]
