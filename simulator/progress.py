"""Progress of a long run (`run --all`, storms, game days): a live block redrawn in place on a terminal, plain
timestamped lines anywhere else (CI logs, pipes, files), never control characters there.

    with Progress(sys.stderr, total=len(scenarios)) as progress:
        options.progress = progress.say          # the runner's messages
        ...
        progress.finish("crypto", "pass", "5 of 5 steps met")

``say("[crypto] title")`` starts task ``crypto`` and ties it to the calling thread, so the runner's later
messages from that thread ("provisioning", "observing") update the same task without naming it.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

_TASK_MESSAGE = re.compile(r"^\s*\[(?P<key>[^\]]+)\]\s*(?P<text>.*)$")
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_ICONS = {"pass": "✔", "fail": "✘", "error": "✘"}


@dataclass
class _Task:
    key: str
    label: str
    started: float
    message: str = ""


def is_live_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal that can redraw lines in place."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and os.environ.get("TERM", "") not in ("", "dumb")


class LiveBlock:
    """A block of lines at the bottom of a terminal, redrawn in place: subclasses say what ``_block`` holds."""

    stream: TextIO
    _drawn: int = 0  # lines of the block currently on screen

    def _block(self) -> list[str]:
        raise NotImplementedError

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")  # to the block's first line, erase to the end
            self._drawn = 0

    def _draw(self) -> None:
        lines = self._block()
        self.stream.write("\n".join(lines) + "\n")
        self._drawn = len(lines)

    def _redraw(self) -> None:
        self._clear()
        self._draw()
        self.stream.flush()


class Progress(LiveBlock):
    """Tasks started, updated and finished from any thread; see the module docstring."""

    def __init__(self, stream: TextIO | None = None, *, total: int | None = None, live: bool | None = None,
                 enabled: bool = True, refresh_seconds: float = 0.25,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total = total
        self.enabled = enabled
        self.live = enabled and (is_live_terminal(self.stream) if live is None else live)
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self.started = clock()
        self.done = 0
        self.failed = 0
        self._tasks: dict[str, _Task] = {}
        self._by_thread: dict[int, str] = {}
        self._lock = threading.RLock()
        self._drawn = 0
        self._frame = 0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    # -- the API ---------------------------------------------------------------------------------------

    def say(self, message: str) -> None:
        """A runner message: ``[key] text`` starts (or updates) task ``key`` for this thread; other text updates
        this thread's task, or is printed as a line of its own."""
        with self._lock:
            match = _TASK_MESSAGE.match(message)
            if match:
                key, text = match["key"], match["text"]
                if key in self._tasks:
                    self.update(key, text)
                else:
                    self.begin(key, text)
                return
            key = self._by_thread.get(threading.get_ident())
            if key is not None and key in self._tasks:
                self.update(key, message)
            else:
                self._emit(message)

    def begin(self, key: str, label: str = "") -> None:
        """Start task ``key`` (tied to the calling thread)."""
        with self._lock:
            self._tasks[key] = _Task(key, label, self.clock())
            self._by_thread[threading.get_ident()] = key
            if self.live:
                self._start_ticker()
                self._redraw()
            else:
                self._emit(f"[{key}] started" + (f": {label}" if label else ""))

    def update(self, key: str, message: str) -> None:
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                self.begin(key)
                task = self._tasks[key]
            task.message = message
            if self.live:
                self._redraw()
            else:
                self._emit(f"[{key}] {message}")

    def finish(self, key: str, verdict: str, summary: str = "") -> None:
        """Task ``key`` ended with ``verdict`` ("pass", "fail", "error"); it leaves the live block as one line."""
        with self._lock:
            task = self._tasks.pop(key, None)
            self._by_thread = {ident: k for ident, k in self._by_thread.items() if k != key}
            self.done += 1
            if verdict != "pass":
                self.failed += 1
            took = self.clock() - task.started if task else None
            icon = _ICONS.get(verdict, "•") if self.live else verdict.upper()
            line = f"{icon} [{key}] {summary or verdict}" + (f" ({took:.1f} s)" if took is not None else "")
            count = f"{self.done}/{self.total}" if self.total else str(self.done)
            self._emit(f"{line}  [{count} done]")

    def close(self) -> None:
        """Stop redrawing and leave the screen with plain lines only."""
        self._stop.set()
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join(timeout=2)
        with self._lock:
            if self.live:
                self._clear()
                self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- drawing ---------------------------------------------------------------------------------------

    def _stamp(self) -> str:
        return f"{self.clock() - self.started:7.1f}s"

    def _emit(self, text: str) -> None:
        """One permanent line: above the live block on a terminal, as is elsewhere."""
        if not self.enabled:
            return
        if self.live:
            self._clear()
            self.stream.write(f"{self._stamp()}  {text}\n")
            self._draw()
        else:
            self.stream.write(f"{self._stamp()}  {text}\n")
        self.stream.flush()

    def _width(self) -> int:
        return max(shutil.get_terminal_size((100, 24)).columns - 1, 20)

    def _block(self) -> list[str]:
        width = self._width()
        spinner = _SPINNER[self._frame % len(_SPINNER)]
        now = self.clock()
        lines = []
        for task in self._tasks.values():
            what = task.message or task.label
            lines.append(f"{spinner} [{task.key}] {now - task.started:5.1f}s  {what}"[:width])
        total = f"/{self.total}" if self.total else ""
        failed = f", {self.failed} failed" if self.failed else ""
        lines.append(f"  {self.done}{total} done{failed}, {len(self._tasks)} running, "
                     f"{now - self.started:.1f}s elapsed"[:width])
        return lines

    def _start_ticker(self) -> None:
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(self.refresh_seconds):
            with self._lock:
                self._frame += 1
                if self._tasks:
                    self._redraw()
