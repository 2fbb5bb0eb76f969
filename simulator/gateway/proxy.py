"""The gateway: a loopback HTTP proxy in front of the sandbox that journals every call and injects faults.

Requests keep their ``Host`` header (signatures and the queue URLs SQS returns depend on it), ``Expect:
100-continue`` is answered here, chunked bodies are decoded, compressed bodies pass through untouched and
hop-by-hop headers stop here. The sandbox closes every connection, so each call opens a fresh one
upstream, while clients keep theirs alive. CloudTrail LookupEvents and the GuardDuty findings API are
answered here, from the journal and the findings store.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import http.client
import http.server
import logging
import socket
import socketserver
import struct
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Iterable
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from simulator.errors import SandboxError
from simulator.gateway.cloudtrail import CallContext, CloudTrailLookup
from simulator.gateway.faults import Fault, FaultHook, RequestInfo
from simulator.gateway.findings_store import FindingsStore
from simulator.gateway.guardduty_api import GuardDutyApi
from simulator.gateway.identities import Identities, Identity, SandboxIdentityResolver
from simulator.gateway.journal import Journal, JournalEntry
from simulator.gateway.local import LocalHandler, LocalResponse
from simulator.gateway.protocols import CallInfo, WireRequest, identify
from simulator.gateway.resources import created_resources, resource_ids
from simulator.gateway.service_models import MODELS
from simulator.gateway.wire_errors import error_code, error_response

logger = logging.getLogger(__name__)

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
    "transfer-encoding", "upgrade", "proxy-connection",
})
# Not forwarded either: answered here (Expect) or recomputed for the decoded body (Content-Length).
_NOT_FORWARDED = HOP_BY_HOP | {"expect", "content-length"}
_NO_BODY_STATUSES = frozenset({204, 304})
PRELOADED_SERVICES = ("ec2", "iam", "sns", "sqs", "s3", "sts", "events", "stepfunctions", "guardduty",
                      "cloudtrail", "lambda")
UPSTREAM_TIMEOUT = 60.0
IDLE_CONNECTION_TIMEOUT = 120.0
# How soon stop() takes effect; the idle wake-ups this costs are negligible.
SHUTDOWN_POLL_SECONDS = 0.05


class Gateway:
    """A recording, fault-injecting proxy for one sandbox endpoint.

    ``fault_hook`` (None or ``callable(RequestInfo) -> Fault | None``) is asked before every call;
    ``findings`` is the store GuardDuty's API serves; ``errors`` keeps what went wrong inside the gateway
    (a failing fault hook, an unreachable sandbox) for the harness to report.
    """

    def __init__(self, upstream_url: str, journal: Journal | None = None, *, region: str = "us-east-1",
                 account_id: str = "123456789012", host: str = "127.0.0.1", port: int = 0,
                 findings: FindingsStore | None = None) -> None:
        parts = urlsplit(upstream_url)
        if parts.scheme != "http" or not parts.hostname:
            raise SandboxError(f"gateway: upstream {upstream_url!r} is not an http:// endpoint")
        self.upstream_url = upstream_url
        self.upstream = (parts.hostname, parts.port or 80)
        # Resolved once: a lookup per call would cost more than the rest of the forwarding.
        try:
            family, _, _, _, address = socket.getaddrinfo(*self.upstream, type=socket.SOCK_STREAM)[0]
        except OSError as error:
            raise SandboxError(f"gateway: cannot resolve upstream {upstream_url!r}: {error}") from None
        self._upstream_family, self._upstream_address = family, address
        self.journal = journal if journal is not None else Journal()
        self.region = region
        self.account_id = account_id
        self.findings = findings or FindingsStore(account_id=account_id, region=region)
        self.identities = Identities(account_id, SandboxIdentityResolver(upstream_url, region, account_id))
        self.cloudtrail = CloudTrailLookup(self.journal, self.identities, account_id=account_id, region=region)
        self.guardduty = GuardDutyApi(self.findings)
        self.fault_hook: FaultHook | None = None
        self.errors: list[str] = []
        self._local: dict[str, list[LocalHandler]] = {"cloudtrail": [self.cloudtrail], "guardduty": [self.guardduty]}
        self._bind = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- configuration ---------------------------------------------------------------------------------

    def label_caller(self, access_key_id: str, label: str) -> None:
        """Name who holds a key ('responder', 'harness') so the journal can be filtered by role."""
        self.journal.label_caller(access_key_id, label)

    def register_identity(self, access_key_id: str, *, user_name: str, arn: str | None = None,
                          principal_id: str | None = None, identity_type: str = "IAMUser") -> None:
        """Say who holds a key for CloudTrail records (otherwise the sandbox's IAM and STS are asked)."""
        arn = arn or f"arn:aws:iam::{self.account_id}:user/{user_name}"
        self.identities.register(access_key_id, Identity(identity_type, user_name, arn, principal_id or user_name,
                                                         self.account_id))

    def serve_locally(self, service: str, handler: LocalHandler) -> None:
        """Answer calls to ``service`` with ``handler`` (it returns None for calls it leaves to the sandbox)."""
        with self._lock:
            self._local.setdefault(service, []).insert(0, handler)

    def local_handlers(self, service: str) -> tuple[LocalHandler, ...]:
        with self._lock:
            return tuple(self._local.get(service, ()))

    # -- lifecycle -------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise SandboxError("gateway: not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> str:
        """Listen and serve in a background thread; returns the gateway's ``http://127.0.0.1:PORT``."""
        if self._server is not None:
            return self.url
        try:
            server = _Server(self._bind, _Handler, self)
        except OSError as error:
            raise SandboxError(f"gateway: cannot listen on {self._bind[0]}:{self._bind[1]}: {error}") from None
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
                                        name="gdsim-gateway", daemon=True)
        self._thread.start()
        threading.Thread(target=MODELS.preload, args=(PRELOADED_SERVICES,), name="gdsim-gateway-models",
                         daemon=True).start()
        return self.url

    def stop(self) -> None:
        """Stop listening and drop every client connection; safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.drop_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Gateway:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    # -- one call --------------------------------------------------------------------------------------

    def ask_fault_hook(self, info: RequestInfo) -> Fault | None:
        hook = self.fault_hook
        if hook is None:
            return None
        try:
            return hook(info)
        except Exception as error:  # a broken chaos profile must not break the responder's call
            self.errors.append(f"fault hook failed on {info.service}:{info.operation}: {error!r}")
            logger.exception("fault hook failed")
            return None

    def serve_local(self, call: CallInfo, request: WireRequest) -> LocalResponse | None:
        """The answer of the first local handler that takes the call; an AWS InternalFailure if one breaks."""
        for handler in self.local_handlers(call.service):
            try:
                response = handler(call, request)
            except Exception as error:  # the caller gets an AWS error it can handle, the harness the reason
                self.errors.append(f"local {call.service}:{call.operation} failed: {error!r}")
                logger.exception("local handler failed")
                status, headers, body = error_response(call.protocol, "InternalFailure", str(error), 500)
                return LocalResponse(status, headers, body)
            if response is not None:
                return response
        return None

    def forward(self, request: WireRequest, raw_target: str, header_items: Iterable[tuple[str, str]],
                ) -> tuple[int, str, list[tuple[str, str]], bytes, socket.socket]:
        """Send the request to the sandbox on a fresh connection; (status, reason, headers, body, socket).

        The caller closes the socket once its client has the response: closing costs a tenth of a
        millisecond that need not delay the call.
        """
        lines = [f"{request.method} {raw_target} HTTP/1.1"]
        lines.extend(f"{name}: {value}" for name, value in header_items if name.lower() not in _NOT_FORWARDED)
        if request.body or request.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(request.body)}")
        lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        upstream = socket.socket(self._upstream_family, socket.SOCK_STREAM)
        try:
            upstream.settimeout(UPSTREAM_TIMEOUT)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            upstream.connect(self._upstream_address)
            upstream.sendall(head + request.body)
            response = http.client.HTTPResponse(upstream, method=request.method)
            response.begin()
            body = response.read()
        except BaseException:
            upstream.close()
            raise
        return response.status, response.reason, response.getheaders(), body, upstream

    def record(self, call: CallInfo, ids: tuple[str, ...], status: int, code: str | None, fault: str | None,
               mono_start: float, context: CallContext) -> JournalEntry:
        entry = self.journal.append(JournalEntry(
            seq=0, mono=time.monotonic(), mono_start=mono_start, wall=time.time(), service=call.service,
            operation=call.operation, region=call.region, caller=call.caller, resource_ids=ids,
            params=call.params, status=status, error_code=code, fault=fault, mutating=call.mutating,
        ))
        self.cloudtrail.note(entry.seq, context)
        return entry


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[_Handler], gateway: Gateway) -> None:
        self.gateway = gateway
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # Plain bind: HTTPServer's version does a reverse DNS lookup of the address.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away is routine; anything else is kept for the harness, never printed raw."""
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            logger.debug("gateway connection from %s ended: %r", client_address, error)
            return
        self.gateway.errors.append(f"gateway failed on a request from {client_address}: {error!r}")
        logger.error("gateway failed on a request", exc_info=error)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def drop_connections(self) -> None:
        with self._connections_lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_TIMEOUT
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        self.server.track(self.connection, open_=False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Calls are journaled; the per-request log line would only cost time."""

    def _handle(self) -> None:
        mono_start = time.monotonic()
        gateway = self.server.gateway
        body = self._read_body()
        if body is None:
            return
        raw_target = self.path
        if raw_target.startswith(("http://", "https://")):
            parts = urlsplit(raw_target)
            raw_target = parts.path + (f"?{parts.query}" if parts.query else "")
        path, _, query = raw_target.partition("?")
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        request = WireRequest(self.command, path, query, headers, body)
        call = identify(request, default_region=gateway.region)
        ids = resource_ids(call.service, call.operation, call.params)
        context = CallContext(self.client_address[0], headers.get("user-agent", ""), str(uuid.uuid4()))

        fault = gateway.ask_fault_hook(RequestInfo(
            call.service, call.operation, call.region, call.caller, call.protocol, call.params, ids,
            call.mutating, self.command, path, headers,
        ))
        if fault is not None and fault.delay > 0:
            time.sleep(fault.delay)
        if fault is not None and fault.reset:
            gateway.record(call, ids, 0, None, fault.name, mono_start, context)
            self._reset()
            return
        status, reason, response_headers, response_body, upstream = self._answer(call, request, raw_target, fault)
        try:
            plain = _plain(response_headers, response_body)
            code = error_code(status, _lower(response_headers), plain) if status >= 300 else None
            if call.mutating and status < 300:
                context = dataclasses.replace(
                    context, created=created_resources(call.service, call.operation, status, plain))
            # Journaled before the client has its answer, so whoever saw the call return finds it.
            gateway.record(call, ids, status, code, fault.name if fault else None, mono_start, context)
            self._respond(status, reason, response_headers, response_body)
        finally:
            if upstream is not None:
                upstream.close()

    def _answer(self, call: CallInfo, request: WireRequest, raw_target: str, fault: Fault | None,
                ) -> tuple[int, str, list[tuple[str, str]], bytes, socket.socket | None]:
        """The response: the fault's canned one, a local API's, or the sandbox's (with its open socket)."""
        gateway = self.server.gateway
        if fault is not None and fault.status is not None:
            return fault.status, _reason(fault.status), list(fault.headers.items()), fault.body, None
        local = gateway.serve_local(call, request)
        if local is not None:
            return local.status, _reason(local.status), list(local.headers.items()), local.body, None
        try:
            return gateway.forward(request, raw_target, self.headers.items())
        except (OSError, http.client.HTTPException) as error:
            gateway.errors.append(f"sandbox unreachable for {call.service}:{call.operation}: {error!r}")
            status, headers, body = error_response(call.protocol, "ServiceUnavailable",
                                                   f"sandbox unreachable: {error}", 503)
            return status, _reason(status), list(headers.items()), body, None

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle

    def _read_body(self) -> bytes | None:
        encoding = self.headers.get("Transfer-Encoding", "").lower()
        try:
            if "chunked" in encoding:
                return self._read_chunked()
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "Bad request body framing")
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(65537)
            if not line:
                raise ValueError("connection closed inside a chunked body")
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers end at a blank line
                return bytes(body)
            body += self.rfile.read(size)
            self.rfile.readline()

    def _respond(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> None:
        connection_tokens = {
            token.strip().lower()
            for name, value in headers if name.lower() == "connection"
            for token in value.split(",")
        }
        lines = [f"HTTP/1.1 {status} {reason}"]
        for name, value in headers:
            key = name.lower()
            if key in HOP_BY_HOP or key in connection_tokens:
                continue
            if key == "content-length" and self.command != "HEAD":
                continue
            lines.append(f"{name}: {value}")
        if self.command != "HEAD" and status not in _NO_BODY_STATUSES and status >= 200:
            lines.append(f"Content-Length: {len(body)}")
        else:
            body = b""
        if self.close_connection:
            lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send a RST: the client sees its connection reset mid-call.
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _lower(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


def _plain(headers: Iterable[tuple[str, str]], body: bytes) -> bytes:
    """The body as text for reading an error code out of it, even when it travels gzip-compressed."""
    encoding = _lower(headers).get("content-encoding", "").lower()
    if "gzip" in encoding and body[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(body)
        except (OSError, EOFError, zlib.error):
            return b""
    return body
