"""The execution environment: a child process that imports a handler once and runs it per event.

Started by the function runtime as ``python -m simulator.delivery.worker --handler SPEC ...``.
Protocol, one JSON object per line: the runtime writes ``{"op": "invoke", "request_id", "event",
"deadline_ms"}`` on stdin; the worker answers on its original stdout with ``{"kind": "ready"}`` or
``{"kind": "init_error"}`` once, then ``{"kind": "log"}`` lines while a handler runs and one
``{"kind": "result"}`` per invocation. Anything the handler prints is captured as log lines, never
mixed into the protocol.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import IO, Any

from simulator.delivery.context import LambdaContext
from simulator.delivery.handler_spec import load_handler, parse_handler_spec
from simulator.errors import InputError
from simulator.paths import PROJECT_ROOT


class Channel:
    """The protocol stream back to the runtime; writes from any thread stay whole lines."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, default=str)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class LogStream(io.TextIOBase):
    """Stands in for sys.stdout/sys.stderr: forwards whole lines to the runtime as they are written,
    so the logs of a handler that times out (and is killed) are not lost."""

    def __init__(self, channel: Channel, name: str) -> None:
        self._channel = channel
        self._name = name
        self._buffer = ""
        self._lock = threading.Lock()
        self.request_id: str | None = None

    @property
    def name(self) -> str:  # type: ignore[override]
        return self._name

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        with self._lock:
            self._buffer += text
            *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            self._channel.send({"kind": "log", "request_id": self.request_id, "text": line + "\n"})
        return len(text)

    def flush(self) -> None:
        with self._lock:
            rest, self._buffer = self._buffer, ""
        if rest:
            self._channel.send({"kind": "log", "request_id": self.request_id, "text": rest})


class _LambdaLogFormatter(logging.Formatter):
    """``[LEVEL]\\ttimestamp\\trequest id\\tmessage``, the Lambda Python runtime's text format."""

    def __init__(self, current_request: Callable[[], str | None]) -> None:
        super().__init__()
        self._current_request = current_request

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        stamp += f".{int(record.msecs):03d}Z"
        text = f"[{record.levelname}]\t{stamp}\t{self._current_request() or ''}\t{record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class _CurrentStdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stdout is at emit time (our LogStream)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def _claim_protocol_stream() -> IO[str]:
    """Keep the original stdout for the protocol and send fd 1 to stderr, so output written below
    Python (C extensions, subprocesses) can never corrupt a protocol line."""
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    return os.fdopen(protocol_fd, "w", buffering=1, encoding="utf-8")


def _exit_with_parent() -> None:
    """The runtime kills us on stop; this covers the runtime itself being killed."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.2)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _error_of(exc: BaseException, *, skip_frames: int = 1) -> dict[str, Any]:
    frames = traceback.extract_tb(exc.__traceback__)[skip_frames:]
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_list(frames),
    }


def _run_one(handler: Callable[[Any, Any], Any], message: dict[str, Any], options: argparse.Namespace,
             streams: list[LogStream], channel: Channel) -> None:
    request_id = message["request_id"]
    for stream in streams:
        stream.request_id = request_id
    context = LambdaContext(
        function_name=options.function_name,
        invoked_function_arn=options.function_arn,
        deadline_ms=int(message["deadline_ms"]),
        aws_request_id=request_id,
        memory_limit_in_mb=options.memory,
        log_stream_name=options.log_stream,
    )
    reply: dict[str, Any] = {"kind": "result", "request_id": request_id}
    try:
        result = handler(message["event"], context)
        try:
            json.dumps(result)
        except (TypeError, ValueError) as exc:
            reply.update(ok=False, error={"errorType": "Runtime.MarshalError",
                                          "errorMessage": f"Unable to marshal response: {exc}",
                                          "stackTrace": []})
        else:
            reply.update(ok=True, result=result)
    except SystemExit as exc:
        reply.update(ok=False, error={"errorType": "Runtime.ExitError",
                                      "errorMessage": f"handler called exit({exc.code!r})", "stackTrace": []})
    except Exception as exc:
        error = _error_of(exc)
        sys.stdout.write(f"[ERROR] {error['errorType']}: {error['errorMessage']}\n"
                         + "Traceback (most recent call last):\n" + "".join(error["stackTrace"]))
        reply.update(ok=False, error=error)
    finally:
        for stream in streams:
            stream.flush()
            stream.request_id = None
    channel.send(reply)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator.delivery.worker")
    parser.add_argument("--handler", required=True)
    parser.add_argument("--function-name", default="gdsim-responder")
    parser.add_argument("--function-arn", default="")
    parser.add_argument("--memory", default="128")
    parser.add_argument("--log-stream", default="")
    options = parser.parse_args(argv)

    # The runtime stops us with SIGKILL to our process group; a Ctrl-C meant for the harness must
    # not surface as a KeyboardInterrupt traceback inside the user's handler.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    channel = Channel(_claim_protocol_stream())
    _exit_with_parent()
    streams = [LogStream(channel, "<stdout>"), LogStream(channel, "<stderr>")]
    sys.stdout, sys.stderr = streams  # type: ignore[assignment]
    root = logging.getLogger()
    log_handler = _CurrentStdoutHandler()
    log_handler.setFormatter(_LambdaLogFormatter(lambda: streams[0].request_id))
    root.addHandler(log_handler)

    # Like Lambda's /var/task: the project root and the working folder are importable, so
    # `responders.crypto:handler` and a user's own `mymodule:handler` both load unmodified.
    for folder in (os.getcwd(), str(PROJECT_ROOT)):
        if folder not in sys.path:
            sys.path.insert(0, folder)

    started = time.monotonic()
    try:
        handler = load_handler(parse_handler_spec(options.handler))
    except InputError as exc:
        for stream in streams:
            stream.flush()
        channel.send({"kind": "init_error", "message": exc.render(), "error": _error_of(exc, skip_frames=0)})
        return 3
    for stream in streams:
        stream.flush()
    channel.send({"kind": "ready", "pid": os.getpid(), "init_ms": (time.monotonic() - started) * 1000})

    for line in sys.__stdin__ or ():
        if not line.strip():
            continue
        message = json.loads(line)
        if message.get("op") == "exit":
            break
        if message.get("op") == "invoke":
            _run_one(handler, message, options, streams, channel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
