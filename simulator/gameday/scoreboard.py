"""The live scoreboard: one row per finding (scenario, type, when it went in, time to notify, to quarantine or
the first remediation, who acknowledged and when, escalation levels paged, status), redrawn in place on a
terminal; anywhere else (CI logs, pipes) a plain timestamped line for each change, never control characters."""

from __future__ import annotations

import shutil
import threading
import time
from typing import TextIO

from simulator.gameday.live import PREPARING, STATUS, WAITING, FindingLive, Tracker
from simulator.progress import LiveBlock, is_live_terminal
from simulator.reports import format_runbook

HEADERS = ("#", "scenario", "type", "in at", "notify", "quarantine", "ack", "paged", "status")
# Fixed columns fit 110 characters; the status takes what the terminal has left.
_WIDTHS = (3, 18, 22, 7, 7, 10, 20, 5, 0)


def _cut(text: str, width: int) -> str:
    if width <= 0 or len(text) <= width:
        return text
    return text[: max(1, width - 1)] + "…"


def row(live: FindingLive) -> tuple[str, ...]:
    """The scoreboard's cells for one finding."""
    def step_time(step_id: str | None) -> str:
        if step_id is None:
            return "n/a"
        return format_runbook(live.steps_met[step_id]) if step_id in live.steps_met else "-"

    ack = "-"
    if live.ack is not None:
        who = live.ack.by.split(" (", 1)[0]  # the player; the report names the contact too
        ack = f"{who} {format_runbook(live.ack.seconds)} L{live.ack.level}"
    elif live.scheduled.human and live.injected and not live.finished:
        ack = f"simulate ack {live.key}"  # a person plays: say how
    injected = f"+{format_runbook(live.injected_seconds)}" if live.injected_seconds is not None else (
        f"@{format_runbook(live.scheduled.at_seconds)}")
    status = live.status
    if live.status == PREPARING and live.detail:
        status = f"preparing: {live.detail}"
    elif live.status == WAITING:
        status = f"waiting for +{format_runbook(live.scheduled.at_seconds)}"
    finding_type = live.finding_type or live.scenario.finding_types[0]
    # The threat purpose is the scenario's; the rest of the type says what happened.
    return (live.key, live.scenario.id, finding_type.split(":", 1)[-1], injected,
            step_time(live.notify_step()), step_time(live.remediation_step()), ack,
            ",".join(map(str, live.levels_paged)) or "-", status)


def render_rows(tracker: Tracker, width: int | None = None) -> list[str]:
    lines = []
    for cells in [HEADERS, *(row(live) for live in tracker)]:
        parts = [_cut(cell, size).ljust(size) if size else cell for cell, size in zip(cells, _WIDTHS, strict=True)]
        line = "  ".join(parts).rstrip()
        lines.append(_cut(line, width) if width else line)
    return lines


class Scoreboard(LiveBlock):
    """Listens to a tracker; ``say`` prints a line of its own above the board."""

    def __init__(self, tracker: Tracker, stream: TextIO, *, title: str, live: bool | None = None,
                 enabled: bool = True, refresh_seconds: float = 0.5) -> None:
        self.tracker = tracker
        self.stream = stream
        self.title = title
        self.enabled = enabled
        self.live = enabled and (is_live_terminal(stream) if live is None else live)
        self.refresh_seconds = refresh_seconds
        self.started = time.monotonic()
        self._drawn = 0
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        tracker.listen(self._on_event)

    def start(self) -> Scoreboard:
        if self.live:
            self._ticker = threading.Thread(target=self._tick, name="scoreboard", daemon=True)
            self._ticker.start()
            with self._lock:
                self._redraw()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        with self._lock:
            if self.live:
                self._clear()
                self.stream.write("\n".join(render_rows(self.tracker, self._width())) + "\n")
                self.stream.flush()

    def __enter__(self) -> Scoreboard:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def say(self, text: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            if self.live:
                self._clear()
            self.stream.write(f"{self._stamp()}  {text}\n")
            if self.live:
                self._draw()
            self.stream.flush()

    # -- internals -----------------------------------------------------------------------------------

    def _on_event(self, event: str, live: FindingLive, text: str) -> None:
        if not self.enabled:
            return
        if self.live:
            with self._lock:
                self._redraw()
            return
        if event == STATUS and text.startswith(("starting", "observing", "injecting")):
            return  # runner chatter: the plain log keeps the changes that matter
        self.say(f"{live.key} {live.scenario.id}: {text}")

    def _stamp(self) -> str:
        return f"{time.monotonic() - self.started:7.1f}s"

    def _width(self) -> int:
        return max(shutil.get_terminal_size((120, 24)).columns - 1, 40)

    def _block(self) -> list[str]:
        clock = self.tracker.clock
        now = clock.runbook_now()
        done = sum(1 for live in self.tracker if live.finished)
        injected = sum(1 for live in self.tracker if live.injected)
        total = len(self.tracker.findings)
        when = f"runbook +{format_runbook(now)}" if now is not None else "preparing sandboxes"
        header = f"{self.title} · {when} · {injected}/{total} injected, {done} done"
        return [_cut(header, self._width()), *render_rows(self.tracker, self._width())]

    def _tick(self) -> None:
        while not self._stop.wait(self.refresh_seconds):
            with self._lock:
                self._redraw()
