"""What every reference responder's handler needs around its own steps: where to notify and page (from
the environment), running steps so one failure does not stop the rest, refusing an event with a page
that says why, and logging finding text safely.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from responders.lib import aws
from responders.lib.escalate import page
from responders.lib.events import EventRejected
from responders.lib.instance import DEFAULT_PROTECTED_TAG

_LOG_LIMIT = 2000


class ResponderConfigError(Exception):
    """The responder's environment is incomplete or wrong; it cannot even escalate."""


class EscalationFailed(Exception):
    """A step failed and the page about it could not be sent either: let the platform retry."""


def escalation_path(text: str | None) -> dict[str, Any]:
    """ESCALATION, the scenario's path as JSON: {"topic_arn", "levels": [{"level", "contact", ...}]}."""
    if not text:
        return {}
    try:
        path = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResponderConfigError(f"ESCALATION is not JSON: {exc}") from exc
    if not isinstance(path, dict) or not isinstance(path.get("levels", []), list):
        raise ResponderConfigError("ESCALATION must be an object with topic_arn and a list of levels")
    path["levels"] = [level for level in path.get("levels", []) if isinstance(level, dict)]
    return path


@dataclass(frozen=True)
class Escalation:
    """Where notifications and pages go, and which tag protects a resource from containment."""

    oncall_topic_arn: str
    pager_topic_arn: str
    contact: str | None
    protected_tag: str

    @classmethod
    def from_env(cls) -> Escalation:
        """ONCALL_TOPIC_ARN; PAGER_TOPIC_ARN and ESCALATION_CONTACT, else from ESCALATION; PROTECTED_TAG."""
        ladder = escalation_path(os.environ.get("ESCALATION"))
        pager = os.environ.get("PAGER_TOPIC_ARN") or ladder.get("topic_arn")
        first: dict[str, Any] = next((level for level in ladder.get("levels", []) if level.get("level") == 1), {})
        missing = [name for name, value in (("ONCALL_TOPIC_ARN", os.environ.get("ONCALL_TOPIC_ARN")),
                                            ("PAGER_TOPIC_ARN", pager)) if not value]
        if missing:
            raise ResponderConfigError(f"set {' and '.join(missing)} in the responder's environment")
        return cls(
            oncall_topic_arn=os.environ["ONCALL_TOPIC_ARN"],
            pager_topic_arn=str(pager),
            contact=os.environ.get("ESCALATION_CONTACT") or first.get("contact") or None,
            protected_tag=os.environ.get("PROTECTED_TAG") or DEFAULT_PROTECTED_TAG,
        )

    def page(self, finding_id: str | None, reason: str) -> str:
        """Page level 1 with ``reason``; returns the message id (raises if SNS refuses)."""
        return page(aws.client("sns"), self.pager_topic_arn, level=1, contact=self.contact, finding_id=finding_id,
                    reason=reason)


def safe_text(text: str, limit: int = _LOG_LIMIT) -> str:
    """Text from a finding made safe for a log line: control and bidi characters escaped, length capped."""
    shown = "".join(ch if ch.isprintable() and not 0x202A <= ord(ch) <= 0x202E else ch.encode(
        "unicode_escape").decode("ascii") for ch in text)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


class Logger:
    """One log line per event, prefixed with the responder's name; finding text is escaped first."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, message: str) -> None:
        print(f"[{self.name}] {safe_text(message)}")


def reject(escalation: Escalation, rejected: EventRejected, log: Logger) -> dict[str, Any]:
    """Page about an event we will not act on, and touch nothing else. Never raises."""
    reason = f"event rejected: {rejected.reason}"
    log(reason)
    summary: dict[str, Any] = {"status": "rejected", "finding_id": rejected.finding_id, "reason": reason,
                               "escalated": False, "steps": {}}
    try:
        escalation.page(rejected.finding_id, reason)
        summary["escalated"] = True
    except Exception as exc:
        summary["escalation_error"] = f"{type(exc).__name__}: {exc}"
        log(f"could not page about the rejected event: {summary['escalation_error']}")
    return summary


class Steps:
    """Runs runbook steps in order; a failing step is recorded and the next one still runs.

    An action returns (outcome, detail): outcome "done", "already done", "nothing to do" or "skipped".
    """

    def __init__(self, log: Logger) -> None:
        self.log = log
        self.results: dict[str, dict[str, Any]] = {}
        self.failures: list[str] = []

    def run(self, name: str, action: Callable[[], tuple[str, Any]]) -> Any:
        """Run one step; returns its detail (None when it failed)."""
        try:
            outcome, detail = action()
        except Exception as exc:
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
            self.results[name] = {"outcome": "failed", "error": error}
            self.failures.append(f"{name} failed ({error})")
            self.log(f"{name}: FAILED {error}")
            return None
        self.results[name] = {"outcome": outcome, "detail": detail}
        self.log(f"{name}: {outcome} {detail}")
        return detail

    def skip(self, name: str, why: str) -> None:
        self.results[name] = {"outcome": "skipped", "detail": why}
        self.log(f"{name}: skipped ({why})")
