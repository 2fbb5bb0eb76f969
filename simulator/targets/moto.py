"""The default target: a dedicated moto server process per sandbox, on a free loopback port.

Each sandbox is its own process (moto keeps its state in module globals, so threads would share it) in its
own process group. ``stop`` kills the group with SIGKILL (moto's SIGTERM handler takes ~0.5 s once EC2 is
loaded); it runs at interpreter exit too, and the server kills itself if the harness dies without saying
so (see ``moto_child.py``). For many sandboxes in one run, a :class:`MotoForkServer` loads moto once and
forks each sandbox from it in milliseconds.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path
from types import TracebackType
from typing import IO, Protocol

from simulator.errors import SandboxError
from simulator.targets.base import Credentials, Sandbox
from simulator.targets.procutil import EndOfStream, anonymous_log, log_tail, read_line

CHILD_SCRIPT = Path(__file__).with_name("moto_child.py")
DEFAULT_PRELOAD = ("ec2", "iam")
# What the harness signs with; moto accepts any key and maps unknown ones to the sandbox account.
HARNESS_CREDENTIALS = Credentials("AKIAGDSIMHARNESS0001", "gdsim-harness-secret-key")
# The key moto signs its own calls with (Step Functions tasks), e.g. to label them in the journal.
MOTO_INTERNAL_ACCESS_KEY = "ak"
_WARM_CALLS = {
    "ec2": "Action=DescribeAvailabilityZones&Version=2016-11-15",
    "iam": "Action=ListRoles&Version=2010-05-08&MaxItems=1",
}


def _child_command(*, account_id: str, region: str, preload: tuple[str, ...], extra: tuple[str, ...] = ()
                   ) -> list[str]:
    # -P: the script's own folder (which holds this moto.py) must not shadow the moto package.
    return [sys.executable, "-P", str(CHILD_SCRIPT), "--host", "127.0.0.1", "--account-id", account_id,
            "--region", region, "--preload", ",".join(preload), *extra]


def _child_environment(*, account_id: str, load_managed_policies: bool, extra_env: dict[str, str]) -> dict[str, str]:
    # The harness's own AWS settings (an endpoint URL above all) must not leak into moto's internal clients.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MOTO_"))}
    env.update({
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
        # moto 5.2.5 reads this switch from the environment only: /moto-api/config ignores an "iam" key.
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "true" if load_managed_policies else "false",
        "MOTO_ACCOUNT_ID": account_id,
    })
    env.update(extra_env)
    return env


class _Server(Protocol):
    """A running server the target owns: how to talk to it, watch it and kill it."""

    pid: int
    port: int

    def send(self, line: str) -> None: ...

    def alive(self) -> bool: ...

    def kill(self) -> None: ...

    def tail(self) -> str: ...


class _SpawnedServer:
    """A server process of its own, watching our end of its stdin pipe."""

    def __init__(self, command: list[str], env: dict[str, str], deadline: float) -> None:
        self._log = anonymous_log()
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=self._log, env=env, start_new_session=True, close_fds=True)
        except OSError as error:
            self._log.close()
            raise SandboxError(f"moto: cannot start {sys.executable}: {error}") from None
        self.pid = self._process.pid
        try:
            self.port = _announced_port(self._process.stdout.fileno(), deadline, self)  # type: ignore[union-attr]
        except BaseException:
            self.kill()
            raise

    def send(self, line: str) -> None:
        stdin = self._process.stdin
        if stdin is None:
            raise SandboxError("moto: the server has no control channel")
        try:
            stdin.write(line.encode() + b"\n")
            stdin.flush()
        except (OSError, ValueError) as error:
            raise SandboxError(f"moto: the server is gone ({error}){self.tail()}") from None

    def alive(self) -> bool:
        return self._process.poll() is None

    def exit_code(self) -> int | None:
        return self._process.poll()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=10)
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._log.close()

    def tail(self) -> str:
        return log_tail(self._log)


class _ForkedServer:
    """A server forked by a :class:`MotoForkServer`, watching our end of its Unix socket connection."""

    def __init__(self, fork_server: MotoForkServer, deadline: float) -> None:
        self._fork_server = fork_server
        self._connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._connection.connect(fork_server.socket_path)
            self._connection.sendall(b"fork\n")
        except OSError as error:
            self._connection.close()
            raise SandboxError(f"moto: the fork server does not answer ({error}){fork_server.tail()}") from None
        self.pid = 0
        try:
            self.port = _announced_port(self._connection.fileno(), deadline, self)
        except BaseException:
            self.kill()
            raise

    def send(self, line: str) -> None:
        try:
            self._connection.sendall(line.encode() + b"\n")
        except OSError as error:
            raise SandboxError(f"moto: the server is gone ({error}){self.tail()}") from None

    def alive(self) -> bool:
        if self._connection.fileno() < 0:
            return False
        # The server never writes after its ready line: readable now means it closed its end.
        readable, _, _ = select.select([self._connection], [], [], 0)
        return not readable

    def exit_code(self) -> int | None:
        return None

    def kill(self) -> None:
        # A server that already closed its end may be reaped and its pid reused: then leave the pid alone.
        if self.pid and self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
        self._connection.close()

    def tail(self) -> str:
        return self._fork_server.tail()


def _announced_port(fd: int, deadline: float, server: _SpawnedServer | _ForkedServer) -> int:
    try:
        line = read_line(fd, deadline)
    except EndOfStream:
        code = server.exit_code() if isinstance(server, _SpawnedServer) else None
        if isinstance(server, _SpawnedServer):
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = server._process.wait(timeout=5)
        raise SandboxError(f"moto: the server exited with code {code} before it was ready{server.tail()}") from None
    if line is None:
        raise SandboxError(f"moto: no answer within the start timeout{server.tail()}")
    try:
        document = json.loads(line)
        server.pid = int(document["pid"])
        return int(document["port"])
    except (ValueError, KeyError, TypeError):
        raise SandboxError(f"moto: unexpected first line {line[:200]!r}{server.tail()}") from None


class MotoTarget:
    """Lifecycle of one moto sandbox: ``start`` -> :class:`Sandbox`, optional ``warm``, ``stop`` (idempotent).

    ``preload`` names moto backends to load in the background as soon as the server listens (EC2 costs
    about a second on its first call); ``warm`` waits for them. AWS managed IAM policies are loaded, the
    Step Functions interpreter is switched on through ``/moto-api/config``, and EC2's ~1,300 built-in AMIs
    and snapshots are left out (``MOTO_EC2_LOAD_DEFAULT_AMIS=false``; ``RunInstances`` accepts any
    ``ImageId`` regardless). With ``fork_server`` the sandbox is forked from an already warm moto, and
    region, account, preloaded services, managed policies and environment are the fork server's.
    """

    name = "moto"

    def __init__(self, region: str = "us-east-1", account_id: str = "123456789012", *,
                 preload: tuple[str, ...] = DEFAULT_PRELOAD, load_managed_policies: bool = True,
                 execute_state_machines: bool = True, start_timeout: float = 30.0,
                 extra_env: dict[str, str] | None = None, fork_server: MotoForkServer | None = None) -> None:
        if fork_server is not None:
            region, account_id, preload = fork_server.region, fork_server.account_id, fork_server.preload
        self.region = region
        self.account_id = account_id
        self.preload = preload
        self.load_managed_policies = load_managed_policies
        self.execute_state_machines = execute_state_machines
        self.start_timeout = start_timeout
        self.extra_env = dict(extra_env or {})
        self.fork_server = fork_server
        self.port: int | None = None
        self._server: _Server | None = None
        self._lock = threading.Lock()
        self._warm = False

    # -- lifecycle -------------------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        if self.port is None:
            raise SandboxError("moto: the sandbox is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        server = self._server
        return server.pid if server is not None else None

    @property
    def running(self) -> bool:
        server = self._server
        return server is not None and server.alive()

    def start(self) -> Sandbox:
        """Launch the server, wait until it answers, configure it; raises SandboxError with its stderr."""
        deadline = time.monotonic() + self.start_timeout
        with self._lock:
            if self._server is not None:
                raise SandboxError("moto: this target is already started; stop it first")
            if self.fork_server is not None:
                server: _Server = _ForkedServer(self.fork_server, deadline)
            else:
                server = _SpawnedServer(
                    _child_command(account_id=self.account_id, region=self.region, preload=self.preload),
                    _child_environment(account_id=self.account_id, load_managed_policies=self.load_managed_policies,
                                       extra_env=self.extra_env),
                    deadline,
                )
            self._server = server
            self.port = server.port
            _LIVE.add(self)
        try:
            self._configure(deadline)
        except BaseException:
            self.stop()
            raise
        return Sandbox(
            name=self.name,
            endpoint_url=self.endpoint_url,
            region=self.region,
            account_id=self.account_id,
            credentials=HARNESS_CREDENTIALS,
            extras={"pid": self.pid, "port": self.port},
        )

    def warm(self, timeout: float = 30.0) -> float:
        """Make the first calls now (EC2, IAM), so nothing measured later pays for loading; returns seconds."""
        if self._warm:
            return 0.0
        started = time.monotonic()
        for service in self.preload:
            if service in _WARM_CALLS:
                self._query(service, _WARM_CALLS[service], timeout=timeout)
        self._warm = True
        return time.monotonic() - started

    def route_internal_calls(self, url: str) -> None:
        """Send the calls moto makes itself (Step Functions tasks) to ``url``, e.g. the gateway.

        moto always calls ``http://localhost:$MOTO_PORT``, so only the port of ``url`` matters.
        """
        port = url.rstrip("/").rsplit(":", 1)[-1]
        if not port.isdigit():
            raise SandboxError(f"moto: {url!r} has no port to route internal calls to")
        server = self._server
        if server is None:
            raise SandboxError("moto: the sandbox is not started")
        server.send(f"env MOTO_PORT={port}")

    def stop(self) -> None:
        """Kill the server's process group and reap it; safe to call any number of times."""
        with self._lock:
            server, self._server = self._server, None
            self.port = None
            self._warm = False
        _LIVE.discard(self)
        if server is not None:
            server.kill()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    # -- internals -------------------------------------------------------------------------------------

    def _tail(self) -> str:
        server = self._server
        return server.tail() if server is not None else ""

    def _configure(self, deadline: float) -> None:
        config = {"stepfunctions": {"execute_state_machine": self.execute_state_machines}}
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/config", data=json.dumps(config).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        while True:
            try:
                with urllib.request.urlopen(request, timeout=max(0.1, deadline - time.monotonic())) as response:
                    response.read()
                return
            except (urllib.error.URLError, OSError) as error:
                if not self.running:
                    raise SandboxError(f"moto: the server died while starting{self._tail()}") from None
                if time.monotonic() >= deadline:
                    raise SandboxError(f"moto: not healthy within {self.start_timeout:.0f} s ({error})"
                                       f"{self._tail()}") from None
                time.sleep(0.02)

    def _query(self, service: str, form: str, *, timeout: float) -> None:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Authorization": (f"AWS4-HMAC-SHA256 Credential={HARNESS_CREDENTIALS.access_key_id}/20200101/"
                              f"{self.region}/{service}/aws4_request, SignedHeaders=host, Signature=0"),
        }
        request = urllib.request.Request(f"{self.endpoint_url}/", data=form.encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError) as error:
            raise SandboxError(f"moto: warm-up call to {service} failed: {error}{self._tail()}") from None


class MotoForkServer:
    """One warm moto (EC2 and IAM loaded) that forks a fresh sandbox per :class:`MotoTarget` in milliseconds.

    Every sandbox it forks shares its account, region and preloaded services. ``target()`` gives a target
    bound to it; stopping the fork server leaves running sandboxes to their own targets, and each of them
    dies with the harness all the same.
    """

    def __init__(self, region: str = "us-east-1", account_id: str = "123456789012", *,
                 preload: tuple[str, ...] = DEFAULT_PRELOAD, load_managed_policies: bool = True,
                 start_timeout: float = 60.0, extra_env: dict[str, str] | None = None) -> None:
        self.region = region
        self.account_id = account_id
        self.preload = preload
        self.load_managed_policies = load_managed_policies
        self.start_timeout = start_timeout
        self.extra_env = dict(extra_env or {})
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._folder: str | None = None
        self._lock = threading.Lock()

    @property
    def socket_path(self) -> str:
        if self._folder is None:
            raise SandboxError("moto: the fork server is not started")
        return os.path.join(self._folder, "fork.sock")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    def start(self) -> None:
        """Launch the fork server and wait until moto is loaded and warm (a second or two)."""
        with self._lock:
            if self._process is not None:
                return
            self._folder = tempfile.mkdtemp(prefix="gdsim-moto-forks-")
            self._log = anonymous_log()
            command = _child_command(account_id=self.account_id, region=self.region, preload=self.preload,
                                     extra=("--fork-server", self.socket_path))
            env = _child_environment(account_id=self.account_id, load_managed_policies=self.load_managed_policies,
                                     extra_env=self.extra_env)
            try:
                self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                 stderr=self._log, env=env, start_new_session=True, close_fds=True)
            except OSError as error:
                self._cleanup()
                raise SandboxError(f"moto: cannot start {sys.executable}: {error}") from None
            _LIVE_FORK_SERVERS.add(self)
        try:
            line = read_line(self._process.stdout.fileno(), time.monotonic() + self.start_timeout)  # type: ignore[union-attr]
        except EndOfStream:
            line = b""
        if not line or not json.loads(line).get("ready"):
            tail = self.tail()
            self.stop()
            raise SandboxError(f"moto: the fork server did not get ready{tail}")

    def target(self, **options: object) -> MotoTarget:
        """A target whose sandbox is forked from this server (options as for :class:`MotoTarget`)."""
        return MotoTarget(fork_server=self, **options)  # type: ignore[arg-type]

    def tail(self) -> str:
        return log_tail(self._log)

    def stop(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        _LIVE_FORK_SERVERS.discard(self)
        if process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        self._cleanup()

    def _cleanup(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> MotoForkServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


_LIVE: weakref.WeakSet[MotoTarget] = weakref.WeakSet()
_LIVE_FORK_SERVERS: weakref.WeakSet[MotoForkServer] = weakref.WeakSet()


@atexit.register
def stop_all() -> None:
    """Stop every moto server and fork server this process started (also run at interpreter exit)."""
    for target in list(_LIVE):
        target.stop()
    for fork_server in list(_LIVE_FORK_SERVERS):
        fork_server.stop()
