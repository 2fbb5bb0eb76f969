"""Admitting an event: what every runbook checks before it reads or changes anything on a finding's behalf.

The finding must be in a GuardDuty event, with a well-formed id, of a type the runbook handles, with a
severity on GuardDuty's scale, about this account and region. Anything else raises EventRejected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from responders.lib import aws
from responders.lib.events import account_of_function, check_scope, check_severity, finding_id_of, finding_of
from responders.lib.shape import check_event_size, check_wellformed

# (finding, finding id) -> the finding's type, when the runbook handles it (EventRejected otherwise).
TypeCheck = Callable[[dict[str, Any], str], str]


@dataclass(frozen=True)
class Checked:
    """A finding admitted for handling."""

    finding: dict[str, Any]
    finding_id: str
    finding_type: str
    severity: float | None


def admit(event: Any, context: Any, check_type: TypeCheck, *, wellformed: bool = False) -> Checked:
    """The finding ``event`` carries, checked; ``wellformed`` also asks for every member GuardDuty always
    sends and an event no larger than EventBridge delivers (responders.lib.shape)."""
    finding = finding_of(event)
    finding_id = finding_id_of(finding)
    if wellformed:
        check_event_size(event, finding_id)
        check_wellformed(finding, finding_id)
    finding_type = check_type(finding, finding_id)
    severity = check_severity(finding, finding_id)
    check_scope(finding, finding_id, account_id=account_of_function(context), region=aws.region())
    return Checked(finding, finding_id, finding_type, severity)
