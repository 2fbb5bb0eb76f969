"""What is happening to each finding of a running game day, told to listeners (the scoreboard, the state file
`simulate ack` reads) as it changes. Every method may be called from any thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulator.gameday.clock import GameClock
from simulator.gameday.schedule import ScheduledFinding

# Listener events.
STATUS, INJECTED, STEP, PAGE, ACK, FINISHED = "status", "injected", "step", "page", "ack", "finished"
# Statuses a finding goes through.
SCHEDULED, PREPARING, WAITING, OBSERVING = "scheduled", "preparing", "waiting", "observing"
NOT_INJECTED, ERROR = "not injected", "error"

_NOTIFY_KINDS = frozenset({"notification_delivered"})
_ESCALATION_KINDS = frozenset({"escalation_paged", "escalation_not_paged"})


@dataclass(frozen=True)
class PageSeen:
    level: int
    contact: str | None
    seconds: float | None  # runbook seconds from injection


@dataclass(frozen=True)
class AckSeen:
    by: str
    contact: str | None
    level: int
    seconds: float | None  # runbook seconds from injection
    acknowledged_at: str  # as written in the record (ISO-8601 UTC)


@dataclass
class FindingLive:
    """One finding as the game day sees it; the sandbox handles are set once its run is ready to inject."""

    scheduled: ScheduledFinding
    status: str = SCHEDULED
    detail: str = ""
    finding_id: str | None = None
    finding_type: str | None = None
    run_id: str | None = None
    sandbox: Any = None
    env: Any = None
    journal: Any = None
    table_name: str | None = None
    topic_arn: str | None = None
    injected_mono: float | None = None
    injected_wall: float | None = None
    injected_seconds: float | None = None  # runbook seconds from the start of the game day
    steps_met: dict[str, float | None] = field(default_factory=dict)
    pages: list[PageSeen] = field(default_factory=list)
    ack: AckSeen | None = None
    result: Any = None  # ScenarioResult
    error: str | None = None
    finished: bool = False
    journal_seq: int = 0

    @property
    def key(self) -> str:
        return self.scheduled.key

    @property
    def scenario(self) -> Any:
        return self.scheduled.scenario

    @property
    def injected(self) -> bool:
        return self.injected_mono is not None

    @property
    def level_contacts(self) -> dict[int, str]:
        return {level.level: level.contact for level in self.scenario.escalation.levels}

    @property
    def levels_paged(self) -> list[int]:
        return sorted({page.level for page in self.pages})

    def notify_step(self) -> str | None:
        return next((step.id for step in self.scenario.steps if step.expect.kind in _NOTIFY_KINDS), None)

    def remediation_step(self) -> str | None:
        """The first step that acts on the finding's resources (quarantine, key deactivation...)."""
        return next((step.id for step in self.scenario.steps
                     if step.expect.kind not in _NOTIFY_KINDS | _ESCALATION_KINDS), None)


Listener = Callable[[str, FindingLive, str], None]


class Tracker:
    """The findings of one game day, in schedule order; listeners hear (event, finding, one-line text)."""

    def __init__(self, schedule: Sequence[ScheduledFinding], clock: GameClock, time_scale: float) -> None:
        self.clock = clock
        self.time_scale = time_scale
        self.findings: dict[str, FindingLive] = {item.key: FindingLive(item) for item in schedule}
        self.lock = threading.RLock()
        self._listeners: list[Listener] = []
        self.listener_errors: list[str] = []

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _tell(self, event: str, live: FindingLive, text: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(event, live, text)
            except Exception as error:  # a display or state-file failure must not stop the exercise
                self.listener_errors.append(f"{event} {live.key}: {error!r}")

    def __iter__(self) -> Any:
        return iter(list(self.findings.values()))

    def get(self, key: str) -> FindingLive:
        return self.findings[key]

    # -- what the runs tell ----------------------------------------------------------------------------

    def status(self, key: str, message: str) -> None:
        with self.lock:
            live = self.findings[key]
            if live.finished:
                return
            if live.status in (SCHEDULED, PREPARING) and not live.injected:
                live.status = PREPARING
            live.detail = message
        self._tell(STATUS, live, message)

    def prepared(self, key: str, *, run_id: str, sandbox: Any, env: Any, findings: Sequence[Mapping[str, Any]],
                 journal: Any) -> None:
        from simulator.observers.base import finding_id_of
        from simulator.stepfunctions.names import ack_table_name

        with self.lock:
            live = self.findings[key]
            live.run_id, live.sandbox, live.env, live.journal = run_id, sandbox, env, journal
            live.finding_id = finding_id_of(findings[0]) if findings else None
            live.finding_type = str(findings[0].get("type")) if findings else None
            live.table_name = ack_table_name(env.run_id)
            live.topic_arn = (getattr(env, "escalation", None) or {}).get("topic_arn")
            live.journal_seq = journal.last_seq if journal is not None else 0
            live.status, live.detail = WAITING, f"ready, goes in at +{_runbook(live.scheduled.at_seconds)}"
        self._tell(STATUS, live, live.detail)

    def injected(self, key: str) -> None:
        with self.lock:
            live = self.findings[key]
            live.injected_mono, live.injected_wall = time.monotonic(), time.time()
            live.injected_seconds = self.clock.runbook_at(live.injected_mono)
            live.status, live.detail = OBSERVING, "injected"
        self._tell(INJECTED, live, f"injected finding {live.finding_id} ({live.finding_type}) "
                                   f"at +{_runbook(live.injected_seconds)}")

    def step_met(self, key: str, step_id: str, observation: Any) -> None:
        with self.lock:
            live = self.findings[key]
            mono = getattr(observation, "attributed_mono", None) or getattr(observation, "first_poll_mono", None)
            seconds = self._since_injection(live, mono)
            live.steps_met[step_id] = seconds
        self._tell(STEP, live, f"step {step_id} met at {_runbook(seconds)}")

    def page(self, key: str, level: int, mono: float | None) -> None:
        with self.lock:
            live = self.findings[key]
            seen = PageSeen(level, live.level_contacts.get(level), self._since_injection(live, mono))
            live.pages.append(seen)
        who = f" ({seen.contact})" if seen.contact else ""
        self._tell(PAGE, live, f"level {level}{who} paged at {_runbook(seen.seconds)}")

    def acknowledged(self, key: str, *, level: int, contact: str | None, acknowledged_at: str,
                     wall: float | None) -> None:
        with self.lock:
            live = self.findings[key]
            if live.ack is not None:
                return
            seconds = None
            if wall is not None and live.injected_wall is not None:
                seconds = max(0.0, (wall - live.injected_wall) * self.time_scale)
            live.ack = AckSeen(_who(live, contact), contact, level, seconds, acknowledged_at)
        self._tell(ACK, live, f"acknowledged by {live.ack.by} at level {level} at {_runbook(seconds)}")

    def finished(self, key: str, *, result: Any = None, error: str | None = None, status: str | None = None,
                 summary: str = "") -> None:
        with self.lock:
            live = self.findings[key]
            live.result, live.error, live.finished = result, error, True
            live.status = status or (ERROR if error else str(getattr(result, "verdict", ERROR)))
            live.detail = summary or (error or "")
            live.sandbox = None  # torn down by now
        self._tell(FINISHED, live, f"{live.status}: {live.detail}" if live.detail else live.status)

    def _since_injection(self, live: FindingLive, mono: float | None) -> float | None:
        if mono is None or live.injected_mono is None:
            return None
        return max(0.0, (mono - live.injected_mono) * self.time_scale)


def _who(live: FindingLive, contact: str | None) -> str:
    """A simulated player writes the paged level's contact; a person writes their own name (`--by`)."""
    player = live.scheduled.player
    if contact and contact not in live.level_contacts.values():
        return contact
    if player is not None and not player.human:
        return f"{player.name} ({contact})" if contact else player.name
    if live.scheduled.player is None and live.scenario.oncall is not None:
        return f"the scenario's on-call ({contact})" if contact else "the scenario's on-call"
    return contact or "someone"


def _runbook(seconds: float | None) -> str:
    from simulator.reports import format_runbook

    return format_runbook(seconds)
