"""The game day's clock: it starts once every finding's sandbox is ready (so preparing sandboxes never
delays a finding past its time), then each finding waits for its moment in runbook time."""

from __future__ import annotations

import threading
import time


class GameClock:
    """``ready()`` (or ``withdraw()``, for a finding whose sandbox failed) once per finding; the clock starts
    when all have; ``wait_until(at)`` blocks until ``at`` runbook seconds after the start, or the cancel."""

    def __init__(self, findings: int, time_scale: float, cancel: threading.Event) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = time_scale
        self.cancel = cancel
        self.started_mono: float | None = None
        self.started_wall: float | None = None
        self._waiting = findings
        self._started = threading.Event()
        self._lock = threading.Lock()
        if findings <= 0:
            self._start()

    def ready(self) -> None:
        self._arrive()

    def withdraw(self) -> None:
        self._arrive()

    def _arrive(self) -> None:
        with self._lock:
            self._waiting -= 1
            if self._waiting == 0 and not self._started.is_set():
                self._start()

    def _start(self) -> None:
        self.started_mono = time.monotonic()
        self.started_wall = time.time()
        self._started.set()

    @property
    def started(self) -> bool:
        return self._started.is_set()

    def runbook_now(self) -> float | None:
        """Runbook seconds since the start; None before it."""
        if self.started_mono is None:
            return None
        return (time.monotonic() - self.started_mono) * self.time_scale

    def runbook_at(self, mono: float) -> float | None:
        """Runbook seconds from the start to the moment ``mono`` (time.monotonic())."""
        if self.started_mono is None:
            return None
        return (mono - self.started_mono) * self.time_scale

    def wait_until(self, at_seconds: float) -> bool:
        """Block until ``at_seconds`` of runbook time after the start; False when cancelled first."""
        while not self._started.wait(0.1):
            if self.cancel.is_set():
                return False
        assert self.started_mono is not None
        due = self.started_mono + at_seconds / self.time_scale
        while True:
            remaining = due - time.monotonic()
            if self.cancel.is_set():
                return False
            if remaining <= 0:
                return True
            self.cancel.wait(min(remaining, 0.5))
