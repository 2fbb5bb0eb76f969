"""HTTP mechanics of the gateway, against a real upstream server that echoes what it received."""

from __future__ import annotations

import base64
import gzip
import http.client
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from simulator.errors import SandboxError
from simulator.gateway import CallInfo, Fault, Gateway, Journal, LocalResponse, RequestInfo, WireRequest

SIGNED = ("AWS4-HMAC-SHA256 Credential=AKIAWIRETEST00000001/20240101/us-east-1/ec2/aws4_request, "
          "SignedHeaders=host, Signature=0")


class _Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        document = json.dumps({
            "method": self.command, "path": self.path, "headers": [[k, v] for k, v in self.headers.items()],
            "body": base64.b64encode(body).decode(),
        }).encode()
        if self.path == "/gzip":
            payload = gzip.compress(document)
            self._send(200, [("Content-Type", "application/json"), ("Content-Encoding", "gzip")], payload)
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            for piece in (document[:10], document[10:]):
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif self.command == "HEAD":
            self._send(200, [("Content-Length", "1234"), ("ETag", '"e"')], b"", length=False)
        elif self.path == "/error":
            self._send(400, [("Content-Type", "text/xml")],
                       b"<Response><Errors><Error><Code>InvalidGroup.NotFound</Code></Error></Errors></Response>")
        else:
            self._send(200, [("Content-Type", "application/json"), ("Keep-Alive", "timeout=5"),
                             ("Connection", "close, X-Hop"), ("X-Hop", "upstream-only")], document)

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes, *, length: bool = True) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if length:
            self.send_header("Content-Length", str(len(body)))
        if not any(name == "Connection" for name, _ in headers):
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_HEAD = _answer


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def gateway(upstream: str) -> Iterator[Gateway]:
    with Gateway(upstream, Journal(), region="us-east-1") as gateway:
        yield gateway


def connect(gateway: Gateway) -> http.client.HTTPConnection:
    host, port = gateway.url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=10)


def echoed(response: http.client.HTTPResponse) -> dict[str, Any]:
    document = json.loads(response.read())
    document["headers"] = {name.lower(): value for name, value in document["headers"]}
    document["body"] = base64.b64decode(document["body"])
    return document


def test_host_is_kept_and_hop_by_hop_headers_stop_at_the_gateway(gateway: Gateway) -> None:
    connection = connect(gateway)
    connection.request("POST", "/?x=1", body=b"Action=DescribeVpcs", headers={
        "Host": "sandbox.example:4566", "Authorization": SIGNED, "Connection": "keep-alive, X-Private",
        "X-Private": "client-only", "Keep-Alive": "timeout=5", "Proxy-Authorization": "secret",
        "Content-Type": "application/x-www-form-urlencoded",
    })
    response = connection.getresponse()
    seen = echoed(response)

    assert seen["path"] == "/?x=1"
    assert seen["headers"]["host"] == "sandbox.example:4566"
    assert seen["headers"]["authorization"] == SIGNED
    assert "x-private" in seen["headers"]  # named by Connection only: hop-by-hop by declaration
    assert "keep-alive" not in seen["headers"] and "proxy-authorization" not in seen["headers"]
    assert seen["body"] == b"Action=DescribeVpcs"
    assert response.getheader("X-Hop") is None and response.getheader("Keep-Alive") is None
    assert response.getheader("Connection") is None  # the client's connection stays open
    connection.close()


def test_client_connections_are_kept_alive_across_calls(gateway: Gateway) -> None:
    connection = connect(gateway)
    for _ in range(3):
        connection.request("GET", "/", headers={"Authorization": SIGNED})
        echoed(connection.getresponse())
    assert connection.sock is not None  # never reset by the gateway
    connection.close()
    assert gateway.journal.last_seq == 3


def test_chunked_request_bodies_are_decoded(gateway: Gateway) -> None:
    connection = connect(gateway)
    connection.request("PUT", "/bucket/key", body=iter([b"hello ", b"chunked ", b"world"]),
                       headers={"Authorization": SIGNED}, encode_chunked=True)
    seen = echoed(connection.getresponse())
    assert seen["body"] == b"hello chunked world"
    assert seen["headers"]["content-length"] == str(len(b"hello chunked world"))
    assert "transfer-encoding" not in seen["headers"]
    connection.close()


def test_expect_100_continue_is_answered_by_the_gateway(gateway: Gateway) -> None:
    with socket.create_connection(("127.0.0.1", int(gateway.url.rsplit(":", 1)[1])), timeout=10) as raw:
        raw.sendall(b"PUT /bucket/key HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n"
                    b"Authorization: " + SIGNED.encode() + b"\r\n\r\n")
        interim = raw.recv(64)
        assert interim.startswith(b"HTTP/1.1 100 Continue")
        raw.sendall(b"data")
        response = http.client.HTTPResponse(raw)
        response.begin()
        seen = echoed(response)
    assert seen["body"] == b"data"
    assert "expect" not in seen["headers"]


def test_compressed_bodies_pass_through_untouched(gateway: Gateway) -> None:
    connection = connect(gateway)
    compressed = gzip.compress(b"Action=DescribeVpcs")
    connection.request("POST", "/gzip", body=compressed, headers={
        "Authorization": SIGNED, "Content-Encoding": "gzip", "Accept-Encoding": "gzip",
        "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    assert response.getheader("Content-Encoding") == "gzip"
    document = json.loads(gzip.decompress(response.read()))
    assert base64.b64decode(document["body"]) == compressed
    assert gateway.journal.entries()[-1].operation == "DescribeVpcs"  # decoded for the journal only
    connection.close()


def test_chunked_upstream_responses_reach_the_client_with_a_length(gateway: Gateway) -> None:
    connection = connect(gateway)
    connection.request("GET", "/chunked", headers={"Authorization": SIGNED})
    response = connection.getresponse()
    assert response.getheader("Transfer-Encoding") is None
    assert int(response.getheader("Content-Length") or 0) > 0
    assert echoed(response)["path"] == "/chunked"
    connection.close()


def test_head_keeps_the_upstream_content_length(gateway: Gateway) -> None:
    connection = connect(gateway)
    connection.request("HEAD", "/bucket/key", headers={"Authorization": SIGNED})
    response = connection.getresponse()
    assert response.getheader("Content-Length") == "1234"
    assert response.read() == b""
    connection.close()


def test_error_codes_are_journaled(gateway: Gateway) -> None:
    connection = connect(gateway)
    connection.request("GET", "/error", headers={"Authorization": SIGNED})
    assert connection.getresponse().status == 400
    entry = gateway.journal.entries()[-1]
    assert (entry.status, entry.error_code, entry.caller) == (400, "InvalidGroup.NotFound", "AKIAWIRETEST00000001")
    connection.close()


def test_latency_fault_delays_and_is_named(gateway: Gateway) -> None:
    gateway.fault_hook = lambda info: Fault.latency("slow", 0.2)
    connection = connect(gateway)
    connection.request("GET", "/", headers={"Authorization": SIGNED})
    echoed(connection.getresponse())
    entry = gateway.journal.entries()[-1]
    assert entry.fault == "slow"
    assert entry.mono - entry.mono_start >= 0.2
    connection.close()


def test_reset_fault_drops_the_connection(gateway: Gateway) -> None:
    gateway.fault_hook = lambda info: Fault.connection_reset("drop")
    connection = connect(gateway)
    connection.request("GET", "/", headers={"Authorization": SIGNED})
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        connection.getresponse()
    entry = gateway.journal.entries()[-1]
    assert (entry.fault, entry.status) == ("drop", 0)


def test_canned_fault_is_answered_without_forwarding(gateway: Gateway) -> None:
    seen: list[RequestInfo] = []

    def hook(info: RequestInfo) -> Fault:
        seen.append(info)
        return Fault.throttle(info)

    gateway.fault_hook = hook
    connection = connect(gateway)
    connection.request("POST", "/", body=b"Action=StopInstances&InstanceId.1=i-0123456789abcdef0",
                       headers={"Authorization": SIGNED, "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    assert response.status == 503
    assert b"<Code>RequestLimitExceeded</Code>" in response.read()
    assert seen[0].operation == "StopInstances" and seen[0].resource_ids == ("i-0123456789abcdef0",)
    assert seen[0].mutating is True
    entry = gateway.journal.entries()[-1]
    assert (entry.fault, entry.error_code) == ("throttle", "RequestLimitExceeded")
    connection.close()


def test_a_failing_fault_hook_is_reported_and_the_call_goes_on(gateway: Gateway) -> None:
    def hook(info: RequestInfo) -> Fault:
        raise RuntimeError("profile bug")

    gateway.fault_hook = hook
    connection = connect(gateway)
    connection.request("GET", "/", headers={"Authorization": SIGNED})
    assert connection.getresponse().status == 200
    assert any("profile bug" in error for error in gateway.errors)
    connection.close()


def test_an_unreachable_sandbox_answers_503_in_the_protocols_shape() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    with Gateway(f"http://127.0.0.1:{dead_port}", Journal()) as gateway:
        connection = connect(gateway)
        connection.request("POST", "/", body=b"Action=DescribeVpcs",
                           headers={"Authorization": SIGNED, "Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        assert response.status == 503
        assert b"<Code>ServiceUnavailable</Code>" in response.read()
        assert gateway.errors and "sandbox unreachable" in gateway.errors[0]
        connection.close()


def test_stop_is_idempotent_and_frees_the_port(upstream: str) -> None:
    gateway = Gateway(upstream, Journal())
    url = gateway.start()
    assert gateway.start() == url
    gateway.stop()
    gateway.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=2).close()
    with pytest.raises(SandboxError):
        _ = gateway.url


def test_only_http_upstreams_are_accepted() -> None:
    with pytest.raises(SandboxError, match="http://"):
        Gateway("https://example.com", Journal())


SNS_SIGNED = SIGNED.replace("/ec2/", "/sns/")


def test_local_handlers_answer_their_calls_and_leave_the_rest(gateway: Gateway) -> None:
    def publish_here(call: CallInfo, request: WireRequest) -> LocalResponse | None:
        if call.operation != "Publish":
            return None
        return LocalResponse(200, {"Content-Type": "text/xml"}, b"<PublishResponse>local</PublishResponse>")

    gateway.serve_locally("sns", publish_here)
    connection = connect(gateway)
    headers = {"Authorization": SNS_SIGNED, "Content-Type": "application/x-www-form-urlencoded"}
    connection.request("POST", "/", body=b"Action=Publish&TopicArn=t&Message=m", headers=headers)
    assert connection.getresponse().read() == b"<PublishResponse>local</PublishResponse>"
    connection.request("POST", "/", body=b"Action=ListTopics", headers=headers)
    assert echoed(connection.getresponse())["body"] == b"Action=ListTopics"  # forwarded
    assert [entry.operation for entry in gateway.journal.entries()[-2:]] == ["Publish", "ListTopics"]
    connection.close()


def test_a_broken_local_handler_answers_an_aws_internal_failure(gateway: Gateway) -> None:
    def broken(call: CallInfo, request: WireRequest) -> LocalResponse | None:
        raise RuntimeError("handler bug")

    gateway.serve_locally("sns", broken)
    connection = connect(gateway)
    connection.request("POST", "/", body=b"Action=ListTopics",
                       headers={"Authorization": SNS_SIGNED, "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    assert response.status == 500
    assert b"<Code>InternalFailure</Code>" in response.read()
    assert gateway.journal.entries()[-1].error_code == "InternalFailure"
    assert any("handler bug" in error for error in gateway.errors)
    connection.close()
