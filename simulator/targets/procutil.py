"""Small process helpers for emulator targets: a log the child writes, and reading its ready line."""

from __future__ import annotations

import os
import select
import tempfile
import time
from pathlib import Path
from typing import IO

TAIL_BYTES = 4000


def anonymous_log() -> IO[bytes]:
    """An unlinked temporary file opened for appending, to hand to a child as its stderr.

    O_APPEND lets the child always write at the end while the harness reads the tail.
    """
    handle, path = tempfile.mkstemp(prefix="gdsim-emulator-", suffix=".log")
    os.close(handle)
    log = open(path, "a+b")  # noqa: SIM115 - lives as long as the child
    os.unlink(path)
    return log


def log_tail(log: IO[bytes] | None, limit: int = TAIL_BYTES) -> str:
    """'; server stderr: ...<last lines>' for an error message, or '' when there is nothing to show."""
    if log is None:
        return ""
    try:
        log.seek(0, os.SEEK_END)
        size = log.tell()
        log.seek(max(0, size - limit))
        text = log.read().decode("utf-8", "replace").strip()
    except (OSError, ValueError):
        return ""
    return f"; server stderr: ...{text[-limit:]}" if text else ""


class EndOfStream(Exception):
    """The other end closed before a full line arrived."""


def read_line(fd: int, deadline: float) -> bytes | None:
    """One line from ``fd`` by ``deadline`` (monotonic); None on timeout; EndOfStream if it closes first."""
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 1)  # byte by byte: nothing after the line may be consumed
        if not chunk:
            raise EndOfStream(line.decode("utf-8", "replace"))
        line += chunk
    return line


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie waiting to be reaped counts as gone (Linux /proc)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return False
    return state != "Z"
