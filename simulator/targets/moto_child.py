"""The emulator process: moto servers on free loopback ports, tied to the life of the harness.

Run by path (``python -P moto_child.py``), so it imports nothing of the harness.

Single mode (default) serves one sandbox:
- the first line on stdout is ``{"port": N, "pid": N}`` once the socket listens;
- stdin stays open for as long as the parent wants the server; end of file (the parent exited or was
  killed) or a change of parent process kills this whole process group at once;
- a line ``env NAME=VALUE`` on stdin sets an environment variable of the running server (moto reads
  ``MOTO_PORT`` when Step Functions calls other services, so this points those calls at the gateway).
Services named with ``--preload`` are imported and their backends built in a background thread, outside
moto's dispatcher lock, so the first call to them does not stall every other service for a second.

Fork-server mode (``--fork-server PATH``) loads and warms moto once, prints ``{"ready": true, "pid": N}``
and then forks a fresh sandbox for each connection to the Unix socket PATH that sends ``fork``. The
connection plays the part stdin plays in single mode (ready line, ``env`` lines, end of file = stop).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import select
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any, NoReturn

PARENT_CHECK_SECONDS = 1.0


def _die() -> NoReturn:
    os.killpg(os.getpgrp(), signal.SIGKILL)
    os._exit(1)  # not reached unless killpg was refused


def _watch(fd: int, parent_pid: int) -> None:
    """Die when ``fd`` reaches its end or the parent changes; apply ``env`` lines meanwhile."""
    pending = b""
    while True:
        ready, _, _ = select.select([fd], [], [], PARENT_CHECK_SECONDS)
        if os.getppid() != parent_pid:
            _die()
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            _die()
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            _control(line.decode("utf-8", "replace").strip())


def _control(line: str) -> None:
    command, _, argument = line.partition(" ")
    if command == "env" and "=" in argument:
        name, _, value = argument.partition("=")
        os.environ[name] = value
        print(f"gdsim: {os.getpid()}: {name}={value}", file=sys.stderr, flush=True)


def _dispatcher() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    # One log line per request costs time and fills the log; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    return DomainDispatcherApplication(create_backend_app)


def _preload(dispatcher: Any, services: list[str], account_id: str, region: str) -> None:
    from moto.backends import get_backend
    from moto.moto_server.werkzeug_app import create_backend_app

    for service in services:
        try:
            app = create_backend_app(service)  # type: ignore[arg-type]
            with dispatcher.lock:
                dispatcher.app_instances.setdefault(service, app)
            regions = get_backend(service)[account_id]  # type: ignore[call-overload]
            regions[region if region in regions.regions else "aws"]
        except Exception as error:  # a failed warm-up only costs time later, never the server
            print(f"gdsim: preload of {service} failed: {error!r}", file=sys.stderr, flush=True)
    print(f"gdsim: preloaded {','.join(services)}", file=sys.stderr, flush=True)


SCRATCH_ACCOUNT = "000000000000"
# Calls a responder typically makes; run once in a scratch account so their code paths and response
# templates are warm in every forked sandbox, while the sandbox account itself stays pristine.
_WARM_UP = (
    ("ec2", "RunInstances", "ImageId=ami-00000000&MinCount=1&MaxCount=1"),
    ("ec2", "DescribeInstances", ""),
    ("ec2", "CreateSecurityGroup", "GroupName=warm&GroupDescription=warm"),
    ("ec2", "DescribeSecurityGroups", ""),
    ("ec2", "DescribeNetworkInterfaces", ""),
    ("ec2", "DescribeVolumes", ""),
    ("ec2", "CreateSnapshot", "VolumeId=vol-00000000"),
    ("ec2", "DescribeSnapshots", ""),
    ("ec2", "CreateTags", "ResourceId.1=i-00000000&Tag.1.Key=k&Tag.1.Value=v"),
    ("ec2", "StopInstances", "InstanceId.1=i-00000000"),
    ("ec2", "DescribeIamInstanceProfileAssociations", ""),
    ("iam", "CreateUser", "UserName=warm"),
    ("iam", "CreateAccessKey", "UserName=warm"),
    ("iam", "ListAccessKeys", "UserName=warm"),
    ("iam", "GetUser", "UserName=warm"),
)
_VERSIONS = {"ec2": "2016-11-15", "iam": "2010-05-08"}


def _warm_up(dispatcher: Any, services: list[str], region: str) -> None:
    """Exercise common calls in a scratch account (single-threaded; the fork server's own process)."""
    from werkzeug.test import Client

    client = Client(dispatcher)
    pinned = os.environ.pop("MOTO_ACCOUNT_ID", None)  # it outranks the per-request account header
    try:
        for service, action, form in _WARM_UP:
            if service not in services:
                continue
            headers = {
                "Authorization": (f"AWS4-HMAC-SHA256 Credential=AKIAGDSIMWARMUP00001/20200101/{region}/{service}/"
                                  "aws4_request, SignedHeaders=host, Signature=0"),
                "Content-Type": "application/x-www-form-urlencoded",
                "x-moto-account-id": SCRATCH_ACCOUNT,
            }
            body = f"Action={action}&Version={_VERSIONS[service]}" + (f"&{form}" if form else "")
            client.post("/", data=body, headers=headers)  # errors (unknown ids) warm the error path too
    finally:
        if pinned is not None:
            os.environ["MOTO_ACCOUNT_ID"] = pinned


def _serve(dispatcher: Any, host: str, announce: Callable[[dict[str, int]], None]) -> NoReturn:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    server = make_server(host, 0, dispatcher, threaded=True, request_handler=MotoRequestHandler)
    os.environ["MOTO_PORT"] = str(server.server_port)
    announce({"port": server.server_port, "pid": os.getpid()})
    server.serve_forever()
    os._exit(0)


def _single(args: argparse.Namespace) -> NoReturn:
    threading.Thread(target=_watch, args=(sys.stdin.fileno(), os.getppid()), name="parent-watch",
                     daemon=True).start()
    dispatcher = _dispatcher()
    services = [name for name in args.preload.split(",") if name]

    def announce(document: dict[str, int]) -> None:
        sys.stdout.write(json.dumps(document) + "\n")
        sys.stdout.flush()
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # nobody reads stdout after the ready line
        if services:
            threading.Thread(target=_preload, args=(dispatcher, services, args.account_id, args.region),
                             name="preload", daemon=True).start()

    _serve(dispatcher, args.host, announce)


def _fork_server(args: argparse.Namespace) -> NoReturn:
    # Single-threaded up to every fork: no lock can be held by a thread the child will not have.
    dispatcher = _dispatcher()
    services = [name for name in args.preload.split(",") if name]
    _preload(dispatcher, services, args.account_id, args.region)
    _warm_up(dispatcher, services, args.region)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(args.fork_server)
    listener.listen(16)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the sandboxes
    parent_pid = os.getppid()
    sys.stdout.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    stdin = sys.stdin.fileno()
    while True:
        ready, _, _ = select.select([stdin, listener], [], [], PARENT_CHECK_SECONDS)
        if os.getppid() != parent_pid or (stdin in ready and not os.read(stdin, 4096)):
            os._exit(0)  # each sandbox sees its own connection close or its parent change, and dies
        if listener in ready:
            connection, _ = listener.accept()
            connection.settimeout(5)
            try:
                request = connection.recv(64).strip()
            except OSError:
                request = b""
            connection.settimeout(None)
            if request == b"fork" and os.fork() == 0:
                listener.close()
                _sandbox(connection, dispatcher, args.host)
            connection.close()


def _sandbox(connection: socket.socket, dispatcher: Any, host: str) -> NoReturn:
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # Every fork starts from the same random state; ids must still differ between sandboxes.
    from moto.moto_api._internal import mock_random

    mock_random.seed()
    random.seed()
    threading.Thread(target=_watch, args=(connection.fileno(), os.getppid()), name="parent-watch",
                     daemon=True).start()
    _serve(dispatcher, host, lambda document: connection.sendall(json.dumps(document).encode() + b"\n"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--account-id", default="123456789012")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--preload", default="", help="comma-separated moto backend names")
    parser.add_argument("--fork-server", default="", metavar="SOCKET", help="serve forks on this Unix socket")
    args = parser.parse_args(argv)
    if args.fork_server:
        _fork_server(args)
    _single(args)


if __name__ == "__main__":
    main()
