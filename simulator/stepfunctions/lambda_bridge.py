"""Lambda functions whose code runs in the harness: ``Invoke`` reaches the gateway, which runs the handler.

The emulator keeps the function's record (CreateFunction, GetFunction, ListFunctions behave as in AWS),
but cannot run code without containers; so the gateway answers ``Invoke`` for the functions registered
here, whoever calls it: a state machine's ``arn:aws:states:::lambda:invoke`` task, a task naming the
function's ARN, or a direct call. ``RequestResponse`` runs the handler once in the function runtime and
answers as Lambda does (``X-Amz-Function-Error: Unhandled`` and the error document when it raised);
``Event`` queues an asynchronous invocation with Lambda's retries (202); ``DryRun`` only checks (204).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import threading
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from simulator.delivery.handler_spec import parse_handler_spec
from simulator.delivery.runtime import FunctionRuntime, Invocation
from simulator.errors import SandboxError
from simulator.gateway.local import ApiError, LocalResponse
from simulator.gateway.protocols import CallInfo, WireRequest
from simulator.stepfunctions.deploy import RUN_TAG, function_code, service_role
from simulator.stepfunctions.names import resource_name
from simulator.targets.base import Credentials, Sandbox

LOG_TAIL_BYTES = 4096  # what LogType=Tail returns in X-Amz-Log-Result
_RUNTIME = "python3.11"
_NOTE = ("The code of this function runs in the gdsim function runtime: the harness's gateway answers its "
         "Invoke calls. The handler is {handler}.\n")


def function_name_of(reference: str) -> str:
    """The bare name in a FunctionName parameter: a name, ``name:qualifier``, or a full or partial ARN."""
    text = unquote(reference or "")
    if text.startswith("arn:"):
        parts = text.split(":")
        return parts[6] if len(parts) > 6 else ""
    if ":function:" in text:  # partial ARN: 123456789012:function:name[:qualifier]
        return text.split(":function:", 1)[1].split(":", 1)[0]
    return text.split(":", 1)[0]


def _lambda_handler_field(handler: str) -> str:
    spec = parse_handler_spec(handler)
    module = spec.module if spec.module else (spec.path.stem if spec.path else "handler")
    return f"{module}.{spec.function}"


class LambdaBridge:
    """Registers functions (a record in the sandbox, a FunctionRuntime in the harness) and answers their
    ``Invoke`` calls at the gateway.

    Functions run with ``credentials`` (the responder's own key), ``env`` as their environment and the
    gateway as their endpoint, so everything they do is journaled as the responder's.
    """

    def __init__(self, gateway: Any, sandbox: Sandbox, *, run_id: str, credentials: Credentials,
                 env: Mapping[str, str] | None = None, time_scale: float = 1.0,
                 timeout_seconds: float = 60.0) -> None:
        self.gateway = gateway
        self.sandbox = sandbox
        self.run_id = run_id
        self.credentials = credentials
        self.env = dict(env or {})
        self.time_scale = time_scale
        self.timeout_seconds = timeout_seconds
        self._functions: dict[str, FunctionRuntime] = {}
        self._lock = threading.Lock()
        self._serving = False
        self._role_arn: str | None = None

    # -- registering -----------------------------------------------------------------------------

    def add_function(self, handler: str, *, name: str | None = None) -> str:
        """Start a function runtime for ``handler`` and create its record; returns the function ARN."""
        name = name or self._name_for(handler)
        runtime = FunctionRuntime(
            handler, env=self.env, endpoint_url=self.gateway.url, credentials=self.credentials,
            region=self.sandbox.region, sandbox=self.sandbox, timeout_seconds=self.timeout_seconds,
            time_scale=self.time_scale, function_name=name, account_id=self.sandbox.account_id)
        runtime.start()
        try:
            return self.register(name, runtime, handler=handler)
        except BaseException:
            runtime.stop()
            raise

    def register(self, name: str, runtime: FunctionRuntime, *, handler: str | None = None) -> str:
        """Answer ``Invoke`` of function ``name`` with ``runtime`` (already started); returns its ARN."""
        arn = self._create_record(name, handler or runtime.spec.text)
        with self._lock:
            self._functions[name] = runtime
            if not self._serving:
                self.gateway.serve_locally("lambda", self.handle)
                self._serving = True
        return arn

    @property
    def functions(self) -> dict[str, FunctionRuntime]:
        with self._lock:
            return dict(self._functions)

    @property
    def invocations(self) -> list[Invocation]:
        """Every invocation of every registered function, in the order they started."""
        records = [record for runtime in self.functions.values() for record in runtime.invocations]
        return sorted(records, key=lambda record: record.started_mono)

    @property
    def dead_letters(self) -> list[Any]:
        return [letter for runtime in self.functions.values() for letter in runtime.dead_letters]

    def wait_idle(self, timeout: float) -> bool:
        return all(runtime.wait_idle(timeout) for runtime in self.functions.values())

    def stop(self) -> None:
        for runtime in self.functions.values():
            runtime.stop()

    # -- answering Invoke ------------------------------------------------------------------------

    def handle(self, call: CallInfo, request: WireRequest) -> LocalResponse | None:
        """The gateway's local handler for Lambda: Invoke of a registered function, else None (forwarded)."""
        if call.operation != "Invoke":
            return None
        reference = str(call.params.get("FunctionName") or "")
        if not reference and "/functions/" in request.path:
            reference = request.path.split("/functions/", 1)[1].split("/", 1)[0]
        runtime = self.functions.get(function_name_of(reference))
        if runtime is None:
            return None
        kind = str(call.params.get("InvocationType") or request.headers.get("x-amz-invocation-type")
                   or "RequestResponse")
        try:
            event = json.loads(request.body) if request.body.strip() else {}
        except (ValueError, UnicodeDecodeError) as problem:
            return ApiError("InvalidRequestContentException",
                            f"Could not parse request body into json: {problem}").response(call.protocol)
        request_id = str(uuid.uuid4())
        base = {"x-amzn-RequestId": request_id, "X-Amz-Executed-Version": "$LATEST"}
        if kind == "DryRun":
            return LocalResponse(204, base)
        if kind == "Event":
            runtime.submit(event)
            return LocalResponse(202, base)
        if kind != "RequestResponse":
            return ApiError("InvalidParameterValueException",
                            f"InvocationType {kind!r} is not RequestResponse, Event or DryRun").response(call.protocol)
        invocation = runtime.invoke(event, request_id=request_id)
        headers = {**base, "Content-Type": "application/json"}
        if str(call.params.get("LogType") or request.headers.get("x-amz-log-type") or "") == "Tail":
            tail = (invocation.logs or "").encode()[-LOG_TAIL_BYTES:]
            headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        if invocation.outcome == "ok":
            return LocalResponse(200, headers, json.dumps(invocation.result, default=str).encode())
        headers["X-Amz-Function-Error"] = "Unhandled"
        error = invocation.error or {"errorType": "Runtime.Unknown", "errorMessage": invocation.outcome}
        return LocalResponse(200, headers, json.dumps(error, default=str).encode())

    # -- internals -------------------------------------------------------------------------------

    def _name_for(self, handler: str) -> str:
        readable = "".join(ch if ch.isalnum() else "-" for ch in handler.rsplit("/", 1)[-1]).strip("-")
        digest = hashlib.sha256(handler.encode()).hexdigest()[:6]
        return resource_name(self.run_id, f"{readable[:20]}-{digest}", 64)

    def _create_record(self, name: str, handler: str) -> str:
        client = self.sandbox.client("lambda")
        if self._role_arn is None:
            self._role_arn = service_role(self.sandbox, resource_name(self.run_id, "lambda", 64), "lambda", (),
                                          self.run_id)
        try:
            response = client.create_function(
                FunctionName=name, Runtime=_RUNTIME, Role=self._role_arn, Handler=_lambda_handler_field(handler),
                Code={"ZipFile": function_code(_NOTE.format(handler=handler))},
                Timeout=max(1, min(900, math.ceil(self.timeout_seconds))),
                Environment={"Variables": dict(self.env)}, Tags={RUN_TAG: self.run_id},
                Description=f"gdsim: {handler}"[:256])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceConflictException":
                raise SandboxError(f"creating the record of function {name} failed: {error}") from error
            response = client.get_function(FunctionName=name)["Configuration"]
        return str(response["FunctionArn"])

    def __enter__(self) -> LambdaBridge:
        return self

    def __exit__(self, *_exc: object) -> None:
        with contextlib.suppress(Exception):
            self.stop()
