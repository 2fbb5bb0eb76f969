"""The live state of a running game day, in its report folder, for `simulate ack` in another terminal: each
injected finding's sandbox endpoint, the harness's credentials there, its escalation table, the levels paged
and whether someone acknowledged. Each running game day also leaves a pointer to its state in
``reports/gamedays-running/``, so `simulate ack` finds it without being told where its reports go, even
with several running at once. Both files go away when the game day ends."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulator.errors import UsageError
from simulator.gameday.live import ACK, FINISHED, INJECTED, PAGE, FindingLive, Tracker

STATE_FILE = "gameday-state.json"
RUNNING_DIR = "gamedays-running"
FORMAT = 1


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Atomically, readable by the owner only (it holds the sandbox's credentials)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2, sort_keys=True)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def finding_state(live: FindingLive) -> dict[str, Any]:
    sandbox = live.sandbox
    credentials = getattr(sandbox, "credentials", None)
    return {
        "key": live.key,
        "finding_id": live.finding_id,
        "finding_type": live.finding_type,
        "scenario": live.scenario.id,
        "run_id": live.run_id,
        "status": live.status,
        "endpoint_url": getattr(sandbox, "endpoint_url", None),
        "region": getattr(sandbox, "region", None),
        "account_id": getattr(sandbox, "account_id", None),
        "access_key_id": getattr(credentials, "access_key_id", None),
        "secret_access_key": getattr(credentials, "secret_access_key", None),
        "session_token": getattr(credentials, "session_token", None),
        "table_name": live.table_name,
        "levels": [{"level": level, "contact": contact} for level, contact in sorted(live.level_contacts.items())],
        "levels_paged": live.levels_paged,
        "player": live.scheduled.player.name if live.scheduled.player else None,
        "human": live.scheduled.human,
        "acknowledged": ({"by": live.ack.by, "level": live.ack.level, "at": live.ack.acknowledged_at}
                         if live.ack else None),
    }


@dataclass
class StateFile:
    """Keeps ``<report dir>/gameday-state.json`` (and the pointer) in step with the tracker."""

    report_dir: Path
    pointer_dir: Path
    gameday: str
    run_id: str
    time_scale: float

    def __post_init__(self) -> None:
        self.path = self.report_dir / STATE_FILE
        # One pointer per game day: two running at once never overwrite each other's.
        self.pointer = self.pointer_dir / RUNNING_DIR / f"{os.getpid()}-{self.run_id}.json"
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._lock = threading.Lock()

    def attach(self, tracker: Tracker) -> None:
        self.write(tracker)
        _write_private(self.pointer, {"state": str(self.path.resolve()), "pid": os.getpid(),
                                      "gameday": self.gameday, "run_id": self.run_id})
        tracker.listen(lambda event, _live, _text: self.write(tracker)
                       if event in (INJECTED, PAGE, ACK, FINISHED) else None)

    def write(self, tracker: Tracker) -> None:
        with tracker.lock:
            findings = [finding_state(live) for live in tracker if live.injected]
        data = {"format": FORMAT, "gameday": self.gameday, "run_id": self.run_id, "pid": os.getpid(),
                "started_at": self.started_at, "time_scale": self.time_scale, "findings": findings}
        with self._lock:
            _write_private(self.path, data)

    def remove(self) -> None:
        with self._lock:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            with contextlib.suppress(FileNotFoundError):
                self.pointer.unlink()


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_running_state(gameday: Path | None, pointer_dir: Path, reference: str | None = None,
                       ) -> tuple[Path, dict[str, Any]]:
    """The state of the running game day: in ``gameday`` (its report folder or state file), else the only one
    running by the pointers in ``<pointer_dir>/gamedays-running/``; with several running, the only one that
    knows the finding ``reference`` names. UsageError when none (or no single one) fits."""
    if gameday is not None:
        path = gameday / STATE_FILE if gameday.is_dir() else gameday
        if not path.is_file():
            raise UsageError(f"--gameday {gameday}: no game day is running there (no {STATE_FILE}); "
                             "it has ended, or give the report folder of a running `simulate gameday`")
        return path, _running_state(path)
    running = running_gamedays(pointer_dir)
    if not running:
        raise UsageError("no game day is running (start one with `simulate gameday --plan FILE`, "
                         "or give its report folder with --gameday DIR)")
    if len(running) == 1:
        return running[0]
    fitting = [(path, data) for path, data in running
               if reference is not None and findings_named(reference, list(data.get("findings") or []))]
    if len(fitting) == 1:
        return fitting[0]
    listed = "; ".join(f"{data.get('gameday')} (run {data.get('run_id')}) in {path.parent}" for path, data in running)
    which = "" if reference is None else f" and {reference!r} could be in {len(fitting) or 'none'} of them"
    raise UsageError(f"{len(running)} game days are running{which}: {listed}; "
                     "choose one with --gameday DIR")


def running_gamedays(pointer_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """(state file, state) of every game day running by its pointer, oldest first; pointers left by game days
    that stopped without cleaning up (killed) are removed."""
    found = []
    for pointer in sorted((pointer_dir / RUNNING_DIR).glob("*.json"), key=_started):
        try:
            path = Path(json.loads(pointer.read_text(encoding="utf-8"))["state"])
            found.append((path, _running_state(path)))
        except (OSError, ValueError, KeyError, TypeError, UsageError):
            with contextlib.suppress(OSError):
                pointer.unlink()
    return found


def _started(pointer: Path) -> float:
    try:
        return pointer.stat().st_mtime
    except OSError:
        return 0.0


def _running_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UsageError(f"no game day is running: {path} is gone or unreadable (the game day has ended)") from None
    if not isinstance(data, dict) or not _alive(data.get("pid")):
        raise UsageError(f"no game day is running: {path} was left by a game day that has stopped "
                         f"(pid {data.get('pid') if isinstance(data, dict) else '?'})")
    return data


def findings_named(reference: str, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings ``reference`` names: the one whose scoreboard key it is (F2), else those whose id it begins."""
    wanted = reference.strip().lower()
    by_key = [item for item in findings if str(item.get("key", "")).lower() == wanted]
    return by_key[:1] or [item for item in findings if str(item.get("finding_id") or "").lower().startswith(wanted)]
