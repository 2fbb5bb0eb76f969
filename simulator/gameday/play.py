"""Playing a game day: one sandbox per finding, forked from one warm emulator, each prepared up front and its
finding held until its scheduled time; the scoreboard, the watcher and the state file follow them.

Ctrl-C stops the injections, ends every observation, tears every sandbox down and still yields what was seen
(the report is marked interrupted).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from simulator.errors import GdsimError
from simulator.gameday.clock import GameClock
from simulator.gameday.live import NOT_INJECTED, Tracker
from simulator.gameday.loading import LoadedPlan
from simulator.gameday.schedule import ScheduledFinding
from simulator.gameday.scoreboard import Scoreboard
from simulator.gameday.state import StateFile
from simulator.gameday.watch import Watcher
from simulator.runner import RunOptions, run_scenario


class NotInjected(Exception):
    """The game day was stopped before this finding's time: its run ends without injecting it."""


@dataclass
class GameDayRun:
    """What a played game day leaves: the tracker (every finding as it ended), and how it ended."""

    tracker: Tracker
    run_id: str
    interrupted: bool
    started_at: str
    wall_seconds: float
    harness_errors: list[str] = field(default_factory=list)

    @property
    def results(self) -> list[Any]:
        """The ScenarioResult of every finding that went in, in schedule order."""
        return [live.result for live in self.tracker if live.result is not None]


@dataclass
class GameDay:
    """One game day: ``play()`` runs it to its end (or Ctrl-C) and returns a GameDayRun."""

    loaded: LoadedPlan
    schedule: Sequence[ScheduledFinding]
    run_id: str
    time_scale: float
    report_dir: Path
    pointer_dir: Path
    stream: TextIO
    live_display: bool | None = None
    quiet: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.clock = GameClock(len(self.schedule), self.time_scale, self.cancel)
        self.tracker = Tracker(self.schedule, self.clock, self.time_scale)
        self.watcher = Watcher(self.tracker)
        self.board = Scoreboard(self.tracker, self.stream, title=f"game day {self.loaded.plan.name}",
                                live=self.live_display, enabled=not self.quiet)
        self.state = StateFile(self.report_dir, self.pointer_dir, self.loaded.plan.name, self.run_id, self.time_scale)

    def play(self) -> GameDayRun:
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        started = time.monotonic()
        interrupted = False
        try:
            with contextlib.ExitStack() as stack:
                stack.callback(self.state.remove)
                self.state.attach(self.tracker)
                stack.enter_context(self.board)
                stack.callback(self.watcher.stop)
                self.watcher.start()
                interrupted = self._run_findings(stack)
        except KeyboardInterrupt:
            # Ctrl-C before the findings' threads existed, or while the stack was unwinding: all is torn down.
            interrupted = True
            self.cancel.set()
        for live in self.tracker:
            if not live.finished:
                self.tracker.finished(live.key, status=NOT_INJECTED, summary="the game day ended before its time")
        errors = [*self.watcher.errors, *self.tracker.listener_errors]
        return GameDayRun(self.tracker, self.run_id, interrupted, started_at, time.monotonic() - started, errors)

    def _run_findings(self, stack: contextlib.ExitStack) -> bool:
        from simulator.targets.moto import MotoForkServer

        self.board.say(f"preparing {len(self.schedule)} sandbox(es); the clock starts when all are ready")
        # One warm emulator forks a fresh, isolated sandbox per finding in milliseconds.
        fork_server = stack.enter_context(MotoForkServer())
        base = RunOptions(target="moto", time_scale=self.time_scale, fork_server=fork_server, cancel=self.cancel)
        started = threading.Thread(target=self._announce_start, name="gameday-clock", daemon=True)
        started.start()
        with ThreadPoolExecutor(max_workers=max(1, len(self.schedule)), thread_name_prefix="gameday") as pool:
            futures = []
            try:
                # Inside the try: the pool's exit waits for every run, so the cancel must be set before it.
                futures += [pool.submit(self._play_one, item, base) for item in self.schedule]
                for future in futures:
                    future.result()
            except KeyboardInterrupt:
                self.cancel.set()
                for future in futures:
                    future.cancel()
                self.board.say("interrupted: no more findings go in; ending observation, tearing the sandboxes down")
                pool.shutdown(wait=True)  # every run cleans its sandbox up before the report is written
                return True
        return False

    def _announce_start(self) -> None:
        while not self.cancel.is_set():
            if self.clock.started:
                if any(not live.finished for live in self.tracker):
                    self.board.say("clock started: each finding goes in at its time (runbook +0s now)")
                return
            time.sleep(0.05)

    def _play_one(self, item: ScheduledFinding, base: RunOptions) -> None:
        from simulator.reports import verdict_line

        key = item.key
        tracker, clock = self.tracker, self.clock
        ready = threading.Event()
        run_id = f"{self.run_id}-{key.lower()}"

        def hold(_scenario_id: str, *, sandbox: Any, env: Any, findings: Sequence[Mapping[str, Any]],
                 journal: Any, **_more: Any) -> None:
            tracker.prepared(key, run_id=run_id, sandbox=sandbox, env=env, findings=findings, journal=journal)
            sandbox.client("events")  # the injection's client, made now so the finding goes in when it is due
            ready.set()
            clock.ready()
            if not clock.wait_until(item.at_seconds):
                raise NotInjected(key)
            tracker.injected(key)

        options = dataclasses.replace(
            base, seed=item.seed, chaos=item.chaos, responder=item.responder,
            progress=lambda message: tracker.status(key, message),
            on_observation=lambda _scenario_id, step_id, observation: tracker.step_met(key, step_id, observation),
            before_injection=hold,
        )
        try:
            if self.cancel.is_set():
                raise NotInjected(key)
            result = run_scenario(item.scenario, options, run_id)
        except NotInjected:
            tracker.finished(key, status=NOT_INJECTED, summary="the game day ended before its time")
        except GdsimError as error:
            tracker.finished(key, error=str(error))
        except Exception as error:  # one finding's harness failure must not end the whole exercise
            tracker.finished(key, error=f"the harness failed: {error!r}")
        else:
            self.watcher.read_pages(tracker.get(key))
            tracker.finished(key, result=result, summary=verdict_line(result))
        finally:
            if not ready.is_set():
                clock.withdraw()
