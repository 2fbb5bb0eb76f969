"""One execution environment: a worker process that keeps a handler imported between invocations.

Each worker runs in its own process group so a kill takes anything the handler started with it, and
every live worker is killed at interpreter exit (including after Ctrl-C).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import simulator
from simulator.errors import InputError

# The folder holding the `simulator` package: on the worker's PYTHONPATH whatever its working folder.
_PACKAGE_PARENT = str(Path(simulator.__file__).resolve().parent.parent)
_STDERR_TAIL_LINES = 40

# Strong references: a runtime dropped without stop() must still have its worker killed at exit.
_live: set[Worker] = set()
_live_lock = threading.Lock()


def _kill_all_live() -> None:
    with _live_lock:
        workers = list(_live)
    for worker in workers:
        worker.kill()


atexit.register(_kill_all_live)


class WorkerInitError(Exception):
    """The handler could not be imported (or the worker died before it was ready)."""

    def __init__(self, error: InputError, detail: dict[str, Any]) -> None:
        super().__init__(error.render())
        self.input_error = error
        self.detail = detail


@dataclass
class Outcome:
    outcome: str  # "ok" | "error" | "timeout"
    result: Any
    error: dict[str, Any] | None
    logs: str


class Worker:
    """A spawned worker; ``spawn`` returns once the handler is imported (or raises WorkerInitError)."""

    def __init__(self, argv: list[str], env: dict[str, str], handler_text: str) -> None:
        self._argv = argv
        self._env = dict(env)
        self._env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_PARENT, env.get("PYTHONPATH")) if p)
        self._handler_text = handler_text
        self._messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self._log_lock = threading.Lock()
        self._logs: list[str] = []
        self._stderr_tail: list[str] = []
        self._proc: subprocess.Popen[str] | None = None
        self.invocations = 0
        self.init_ms: float | None = None
        self.init_logs = ""
        self.pid: int | None = None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def spawn(self, init_timeout: float) -> None:
        started = time.monotonic()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "simulator.delivery.worker", *self._argv],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=self._env, text=True, encoding="utf-8", errors="replace", bufsize=1,
            start_new_session=True,
        )
        self.pid = self._proc.pid
        with _live_lock:
            _live.add(self)
        threading.Thread(target=self._read_protocol, name=f"worker-{self.pid}-out", daemon=True).start()
        threading.Thread(target=self._read_stderr, name=f"worker-{self.pid}-err", daemon=True).start()
        message = self._next_message(started + init_timeout)
        kind = message.get("kind")
        if kind == "ready":
            self.init_ms = (time.monotonic() - started) * 1000
            self.init_logs = self._take_logs()
            return
        if kind == "eof":
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)
        self.kill()
        if kind == "init_error":
            raise WorkerInitError(InputError(message["message"]), message.get("error") or {})
        tail = "".join(self._stderr_tail).strip().splitlines()[-1:] or ["no output"]
        why = (f"did not finish importing within {init_timeout:.0f} s" if kind == "timeout"
               else f"exited while importing it (status {self._proc.returncode}): {tail[0]}")
        error = InputError(f"handler {self._handler_text!r}: the worker {why}", field="responder.handler",
                           fix="run the handler's module with python to see why")
        raise WorkerInitError(error, {"errorType": "Runtime.ImportModuleError", "errorMessage": str(error),
                                      "stackTrace": []})

    def invoke(self, request_id: str, event: Any, timeout: float) -> Outcome:
        """Run the handler once; a timeout kills the worker (the next invocation needs a fresh one)."""
        assert self._proc is not None and self._proc.stdin is not None
        self._take_logs()
        deadline = time.monotonic() + timeout
        request = {"op": "invoke", "request_id": request_id, "event": event,
                   "deadline_ms": int((time.time() + timeout) * 1000)}
        self.invocations += 1
        try:
            self._proc.stdin.write(json.dumps(request, default=str) + "\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return self._exited()
        while True:
            message = self._next_message(deadline)
            kind = message.get("kind")
            if kind == "result" and message.get("request_id") == request_id:
                if message.get("ok"):
                    return Outcome("ok", message.get("result"), None, self._take_logs())
                return Outcome("error", None, message.get("error"), self._take_logs())
            if kind == "timeout":
                self.kill()
                error = {"errorType": "Sandbox.Timedout",
                         "errorMessage": f"Task timed out after {timeout:.2f} seconds", "stackTrace": []}
                return Outcome("timeout", None, error, self._take_logs())
            if kind == "eof":
                return self._exited()

    def kill(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError, ValueError):
                if stream is not None:
                    stream.close()
        with _live_lock:
            _live.discard(self)

    # -- internals --------------------------------------------------------------------------------

    def _exited(self) -> Outcome:
        assert self._proc is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=5)
        status = self._proc.returncode
        self.kill()
        error = {"errorType": "Runtime.ExitError",
                 "errorMessage": f"the worker process exited during the invocation (status {status})",
                 "stackTrace": []}
        return Outcome("error", None, error, self._take_logs())

    def _next_message(self, deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return {"kind": "timeout"}
        try:
            return self._messages.get(timeout=remaining)
        except queue.Empty:
            return {"kind": "timeout"}

    def _append_log(self, text: str) -> None:
        with self._log_lock:
            self._logs.append(text)

    def _take_logs(self) -> str:
        with self._log_lock:
            text, self._logs = "".join(self._logs), []
        return text

    def _read_protocol(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        with contextlib.suppress(OSError, ValueError):
            for line in proc.stdout:
                try:
                    message = json.loads(line)
                except json.JSONDecodeError:
                    self._append_log(line)
                    continue
                if message.get("kind") == "log":
                    self._append_log(str(message.get("text", "")))
                else:
                    self._messages.put(message)
        self._messages.put({"kind": "eof"})

    def _read_stderr(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stderr is not None
        with contextlib.suppress(OSError, ValueError):
            for line in proc.stderr:
                self._append_log(line)
                self._stderr_tail = [*self._stderr_tail[-_STDERR_TAIL_LINES:], line]
