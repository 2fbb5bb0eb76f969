"""The observation loop: poll every unmet expectation until all hold or the deadline passes.

A poll only proves that an effect happened by the time the poll returned; polls are 50 ms apart and
each one lags its effect by tens of milliseconds. The gateway journal knows to the millisecond when
the call that caused the effect came back, so once a poll sees an expectation hold, the loop dates it
by the latest successful causing call (that names the expectation's resources) since the previous,
unsuccessful poll of that expectation (never later than the poll that saw it). Without such a call,
the poll time stands.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from simulator.observers.base import Observer
from simulator.observers.clients import drop_clients
from simulator.targets.base import Sandbox

DEFAULT_POLL_INTERVAL = 0.05
# The gateway may append an entry a moment after the responder (and so a poll) sees the response.
JOURNAL_GRACE_SECONDS = 0.025


class JournalLike(Protocol):
    def entries(self, since_seq: int = 0) -> list[Any]: ...

    @property
    def last_seq(self) -> int: ...


@dataclass(frozen=True)
class Observation:
    """When one step's expectation first held, if it did.

    ``first_poll_mono`` is the end of the first poll that saw it hold; ``attributed_mono`` the moment
    the effect is dated to (the causing journal entry's response time, else the poll time).
    """

    met: bool
    first_poll_mono: float | None = None
    attributed_mono: float | None = None
    source: str | None = None  # "journal" | "poll"; None when never met
    polls: int = 0
    operation: str | None = None  # the causing call, when dated by the journal
    journal_seq: int | None = None
    detail: str | None = None


def attribute(entries: Sequence[Any], observer: Observer, *, since_mono: float, window_start: float,
              poll_end: float) -> Any | None:
    """The causing entry to date an effect by: the latest that came back after ``window_start`` (the
    start of the last poll that did not see the effect), else the latest since ``since_mono`` (a poll can
    miss a change made while it was reading). Only calls that started before the poll ended qualify; one
    may have been stamped a moment after the poll saw its effect, as the gateway stamps after reading
    the response."""
    recent = [entry for entry in entries
              if entry.mono >= since_mono and entry.mono_start <= poll_end and observer.is_causing(entry)]
    if not recent:
        return None
    in_window = [entry for entry in recent if entry.mono > window_start]
    return max(in_window or recent, key=lambda entry: (entry.mono, entry.seq))


class ObservationLoop:
    """Polls ``observers`` (step id -> observer) between injection and ``deadline_mono``.

    ``run()`` blocks in the calling thread; ``stop()`` (from any thread) or ``stop_event`` ends it early.
    ``on_observation(step_id, observation)`` is called (in the loop's thread) as each step is seen met.
    Observers must have been prepared before injection.
    """

    def __init__(self, sandbox: Sandbox, journal: JournalLike | None, observers: Mapping[str, Observer], *,
                 injected_mono: float, deadline_mono: float, poll_interval: float = DEFAULT_POLL_INTERVAL,
                 journal_grace: float = JOURNAL_GRACE_SECONDS, stop_event: threading.Event | None = None,
                 on_observation: Callable[[str, Observation], None] | None = None) -> None:
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        self.sandbox = sandbox
        self.journal = journal
        self.observers = dict(observers)
        for observer in self.observers.values():
            observer.journal = journal  # for expectations no sandbox state shows (a CloudTrail lookup)
        self.injected_mono = injected_mono
        self.deadline_mono = deadline_mono
        self.poll_interval = poll_interval
        self.journal_grace = journal_grace
        self.stop_event = stop_event or threading.Event()
        # Told (step id, observation) the moment a step is seen met, for live displays (game days).
        self.on_observation = on_observation
        self.finished_mono: float | None = None
        self._entries: list[Any] = []
        self._seen_seq = 0
        self._polls = dict.fromkeys(self.observers, 0)
        self._last_miss = dict.fromkeys(self.observers, injected_mono)
        self._results: dict[str, Observation] = {}
        self._errors: dict[str, str] = {}

    # -- public --------------------------------------------------------------------------------------

    def run(self) -> dict[str, Observation]:
        self._bind_injection_time()
        while not self.stop_event.is_set():
            tick = time.monotonic()
            for step_id in self.unmet:
                if self.stop_event.is_set():
                    break
                self._poll(step_id)
            now = time.monotonic()
            if not self.unmet or now >= self.deadline_mono:
                break
            # Never closer than a fifth of the interval, even after a slow round, so polling cannot
            # crowd out the responder it watches.
            next_tick = max(tick + self.poll_interval, now + self.poll_interval / 5)
            if self.stop_event.wait(min(next_tick, self.deadline_mono) - now):
                break
        self.finished_mono = time.monotonic()
        return self.observations()

    def stop(self) -> None:
        self.stop_event.set()

    @property
    def unmet(self) -> list[str]:
        return [step_id for step_id in self.observers if step_id not in self._results]

    def observations(self) -> dict[str, Observation]:
        """Every step's observation so far, in the order the steps were given."""
        result = {}
        for step_id, observer in self.observers.items():
            result[step_id] = self._results.get(step_id) or Observation(
                met=False, polls=self._polls[step_id], detail=self._errors.get(step_id) or observer.detail
            )
        return result

    def cleanup(self) -> None:
        """Let every observer remove what it set up in the sandbox, then drop the polling clients."""
        for observer in self.observers.values():
            # Clean-up of a sandbox about to be discarded: a failure here has nothing to report.
            with contextlib.suppress(ClientError, BotoCoreError):
                observer.cleanup(self.sandbox)
        drop_clients(self.sandbox)

    # -- internals -----------------------------------------------------------------------------------

    def _bind_injection_time(self) -> None:
        injected_wall = time.time() - (time.monotonic() - self.injected_mono)
        for observer in self.observers.values():
            observer.injected_wall = injected_wall

    def _poll(self, step_id: str) -> None:
        observer = self.observers[step_id]
        started = time.monotonic()
        try:
            held = observer.check(self.sandbox)
        except (ClientError, BotoCoreError) as error:
            # A failed read is not an answer: keep polling, and say why if it never holds.
            self._errors[step_id] = f"poll failed: {error}"
            held = False
        ended = time.monotonic()
        self._polls[step_id] += 1
        if not held:
            self._last_miss[step_id] = started
            return
        self._errors.pop(step_id, None)
        entry = self._causing_entry(observer, window_start=self._last_miss[step_id], poll_end=ended)
        self._results[step_id] = Observation(
            met=True, first_poll_mono=ended,
            # The effect was visible when the poll ended, whatever the stamp of its call says.
            attributed_mono=min(entry.mono, ended) if entry is not None else ended,
            source="journal" if entry is not None else "poll",
            polls=self._polls[step_id],
            operation=entry.operation if entry is not None else None,
            journal_seq=entry.seq if entry is not None else None,
            detail=observer.detail,
        )
        if self.on_observation is not None:
            self.on_observation(step_id, self._results[step_id])

    def _causing_entry(self, observer: Observer, *, window_start: float, poll_end: float) -> Any | None:
        if self.journal is None:
            return None
        grace_end = time.monotonic() + self.journal_grace
        while True:
            self._read_journal()
            entry = attribute(self._entries, observer, since_mono=self.injected_mono,
                              window_start=window_start, poll_end=poll_end)
            if entry is not None and entry.mono > window_start:
                return entry
            remaining = grace_end - time.monotonic()
            if remaining <= 0:
                return entry
            time.sleep(min(remaining, 0.005))

    def _read_journal(self) -> None:
        assert self.journal is not None
        for entry in self.journal.entries(since_seq=self._seen_seq):
            if entry.seq > self._seen_seq:
                self._entries.append(entry)
                self._seen_seq = entry.seq
