"""The frame every reference responder runs its runbook in, so that a responder module is its runbook only.

``respond`` runs the handler's body and pages about an event it refuses (EventRejected, raised before
anything is changed) or says why it ignores one. A ``Runbook`` handles one finding: its steps run in
order (a failing step is recorded and the next one still runs), the on-call is told once per finding,
and ``finish`` pages level 1 with every reason a human is needed (failed steps first), remembers a clean
finish, and returns the summary. What was done before is read from and kept in a ``Memory``, so a
repeated delivery, or an aggregated update with nothing new, changes nothing and says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from responders.lib import aws
from responders.lib.events import EventIgnored, EventRejected
from responders.lib.gather import member
from responders.lib.idempotency import HANDLED, NOTIFIED, PAGED, Memory
from responders.lib.intake import Checked
from responders.lib.notify import notify
from responders.lib.settings import Config

Outcome = tuple[str, Any]  # what a step did ("done", "already done", "nothing to do", "skipped"), and details

_LOG_LIMIT = 2000


class EscalationFailed(Exception):
    """A step failed and the page about it could not be sent either: let the platform retry."""


def outcome(done: bool, detail: Any) -> Outcome:
    """A step that checked the current state first: "done" if it changed something, else "already done"."""
    return ("done" if done else "already done"), detail


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


def reject(config: Config, rejected: EventRejected, log: Logger) -> dict[str, Any]:
    """Page about an event we will not act on, and touch nothing else. Never raises."""
    reason = f"event rejected: {rejected.reason}"
    log(reason)
    summary: dict[str, Any] = {"status": "rejected", "finding_id": rejected.finding_id, "reason": reason,
                               "escalated": False, "steps": {}}
    try:
        config.page(rejected.finding_id, reason)
        summary["escalated"] = True
    except Exception as exc:
        summary["escalation_error"] = f"{type(exc).__name__}: {exc}"
        log(f"could not page about the rejected event: {summary['escalation_error']}")
    return summary


def respond(config: Config, log: Logger, body: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The handler's ``body``, with its refusals paged (hostile input must not crash the handler) and what
    it ignores said so."""
    try:
        return body()
    except EventRejected as rejected:
        return reject(config, rejected, log)
    except EventIgnored as ignored:
        log(f"finding {ignored.finding_id} ignored: {ignored.reason}")
        return {"status": "ignored", "finding_id": ignored.finding_id, "reason": ignored.reason,
                "escalated": False, "steps": {}}


def version(finding: Mapping[str, Any]) -> tuple[str, int]:
    """Where this state of the finding stands among its aggregated updates: (updatedAt, count)."""
    count = member(finding, "service").get("count")
    updated = finding.get("updatedAt")
    return (updated if isinstance(updated, str) else "",
            count if isinstance(count, int) and not isinstance(count, bool) else 0)


class Runbook:
    """One handling of one finding: steps in order, the on-call told once, the reasons for a human paged."""

    def __init__(self, config: Config, log: Logger, checked: Checked, memory: Memory) -> None:
        self.config = config
        self.log = log
        self.memory = memory
        self.finding = checked.finding
        self.finding_id = checked.finding_id
        self.finding_type = checked.finding_type
        self.results: dict[str, dict[str, Any]] = {}
        self.failures: list[str] = []
        self.page_reasons: list[str] = []
        # An earlier delivery finished an older state of the finding: this one is an aggregated update.
        self.updating = False

    # -- repeats ----------------------------------------------------------------------------------------

    def already_handled(self) -> bool:
        """True when an earlier delivery finished this finding (this state of it, or a newer one)."""
        try:
            record = self.memory.marker(HANDLED)
        except Exception as exc:  # an unreadable memory is no reason to drop the finding: handle it again
            self.log(f"could not read what was done before ({type(exc).__name__}); handling the finding again")
            return False
        if record is None:
            return False
        if not self.memory.detailed:
            return True
        self.updating = True
        return version(self.finding) <= (str(record.get("updated_at", "")), int(record.get("count") or 0))

    def duplicate(self, summary: Mapping[str, Any]) -> dict[str, Any]:
        self.log(f"finding {self.finding_id} was already handled: nothing to do")
        return {"finding_id": self.finding_id, "finding_type": self.finding_type, **summary, "status": "duplicate",
                "escalated": False, "steps": {}}

    # -- steps ------------------------------------------------------------------------------------------

    def step(self, name: str, action: Callable[[], Outcome]) -> Any:
        """Run one step; returns its detail. A failure is recorded (and paged at the end), and returns None."""
        try:
            done, detail = action()
        except Exception as exc:
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
            self.results[name] = {"outcome": "failed", "error": error}
            self.failures.append(f"{name} failed ({error})")
            self.log(f"{name}: FAILED {error}")
            return None
        self.results[name] = {"outcome": done, "detail": detail}
        self.log(f"{name}: {done} {json.dumps(detail, default=str)[:500]}")
        return detail

    def skip(self, name: str, why: str) -> None:
        self.results[name] = {"outcome": "skipped", "detail": why}
        self.log(f"{name}: skipped ({why})")

    def escalate_for(self, reason: str) -> None:
        """Ask for a human even though every step worked (the runbook says so)."""
        self.page_reasons.append(reason)

    def notify(self, subject: str, message: Mapping[str, Any] | str) -> None:
        """Tell the on-call, once per finding (the "notify" step)."""
        def send() -> Outcome:
            try:
                told = self.memory.marker(NOTIFIED) is not None
            except Exception as exc:  # an unknown memory must not keep the on-call in the dark
                self.log(f"could not read the notified marker ({type(exc).__name__}); notifying")
                told = False
            if told:
                return "already done", "on-call was notified by an earlier delivery"
            message_id = notify(aws.client("sns"), self.config.oncall_topic_arn, subject=subject,
                                message=message if isinstance(message, str) else dict(message),
                                attributes={"finding_id": self.finding_id})
            self._remember(NOTIFIED, {"message_id": message_id}, strict=self.memory.strict)
            return "done", {"message_id": message_id}

        self.step("notify", send)

    # -- the end ---------------------------------------------------------------------------------------

    def finish(self, summary: Mapping[str, Any], *, about: str) -> dict[str, Any]:
        """Page what needs a human (failures first; ``about``: what the finding is on, to start the reason),
        remember a clean finish, and say how it ended."""
        result: dict[str, Any] = {"finding_id": self.finding_id, "finding_type": self.finding_type, **summary,
                                  "steps": self.results}
        reasons = [*self.failures, *self.page_reasons]
        result["reasons"] = reasons
        paged = False
        if reasons:
            reason = f"{about}: " + "; ".join(reasons)
            result["reason"] = reason
            if self._paged_before(reason):
                self.log("level 1 was paged for this by an earlier delivery")
                result["paged"] = "earlier"
            else:
                try:
                    message_id = self.config.page(self.finding_id, reason)
                except Exception as exc:
                    # Nobody knows what is left to do: fail the invocation so the platform delivers it again.
                    raise EscalationFailed(f"{reason}; and paging failed: {type(exc).__name__}: {exc}") from exc
                paged = True
                result["paged"] = "now"
                self._remember(PAGED, {"reason": reason, "message_id": message_id})
        changed = paged or any(step.get("outcome") == "done" for step in self.results.values())
        if self.updating and not changed:
            result.update(status="duplicate", escalated=False)  # an aggregated update with nothing new
        elif reasons:
            result.update(status="escalated", escalated=True)
        else:
            result.update(status="updated" if self.updating else "remediated", escalated=False)
        if not self.failures:
            updated_at, count = version(self.finding)
            error = self._remember(HANDLED, {"updated_at": updated_at, "count": count, "status": result["status"]})
            if error:
                # Everything is done; without the marker a repeat delivery re-checks each step, which is safe.
                result["marker_error"] = error
        return result

    def _paged_before(self, reason: str) -> bool:
        if self.memory.detailed and self.failures:
            return False  # something failed this time: say so again
        try:
            record = self.memory.marker(PAGED)
        except Exception:
            return False  # unknown: page again rather than stay silent
        if record is None:
            return False
        return not self.memory.detailed or record.get("reason") == reason

    def _remember(self, step: str, record: Mapping[str, Any], *, strict: bool = False) -> str | None:
        """Keep ``record`` for ``step``; returns why it could not be kept (raises instead when ``strict``)."""
        try:
            self.memory.mark(step, record)
        except Exception as exc:
            if strict:
                raise
            error = f"{type(exc).__name__}: {exc}"
            self.log(f"could not record {step}: {error}")
            return error
        return None
