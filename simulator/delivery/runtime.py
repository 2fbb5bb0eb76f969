"""A Lambda-like function runtime: consumes the rule's queue and invokes a handler in a worker process.

What it keeps from Lambda: the handler runs in a separate, warm-reused process with a Lambda
context; asynchronous invocations are retried twice on error or timeout (after about one and two
minutes of runbook time) and then dead-lettered; a timeout kills the execution environment, so the
next invocation starts cold. What it does not: concurrency (one environment, events run one after
another, as a function with reserved concurrency 1) and memory limits (reported, not enforced).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.delivery.context import function_arn, log_stream_name
from simulator.delivery.handler_spec import parse_handler_spec
from simulator.delivery.process import Worker, WorkerInitError
from simulator.delivery.queue_fed import QueueFed, event_ids
from simulator.errors import InputError, SandboxError
from simulator.targets.base import Credentials, Sandbox

# Lambda's documented waits before the second and third attempt of an async invocation.
LAMBDA_RETRY_DELAYS = (60.0, 120.0)
# New events taken from the queue ahead of the one running: one receive's worth.
PREFETCH = 10
DEFAULT_ACCOUNT = "123456789012"

# Variables the runtime sets itself; Lambda refuses them in a function's environment too.
RESERVED_ENV = frozenset({
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "GDSIM_TIME_SCALE",
})


@dataclass
class Invocation:
    """One attempt at running the handler on one event."""

    request_id: str
    event_id: str | None
    finding_id: str | None
    attempt: int
    cold: bool
    started_mono: float  # dispatch moment, before any cold start
    ended_mono: float
    outcome: str  # "ok" | "error" | "timeout"
    error: dict[str, Any] | None
    logs: str
    result: Any = None
    worker_pid: int | None = None
    init_ms: float | None = None  # cold starts only: spawning the worker and importing the handler
    received_mono: float | None = None  # when the event left the queue

    @property
    def duration_ms(self) -> float:
        return (self.ended_mono - self.started_mono) * 1000


@dataclass
class DeadLetter:
    """What Lambda sends to an on-failure destination once retries are exhausted."""

    request_id: str
    event_id: str | None
    finding_id: str | None
    attempts: int
    error: dict[str, Any] | None
    event: Any
    mono: float
    condition: str = "RetriesExhausted"


@dataclass(order=True)
class _Pending:
    due: float
    seq: int
    event: Any = field(compare=False)
    attempt: int = field(compare=False, default=1)
    request_id: str = field(compare=False, default="")
    received_mono: float | None = field(compare=False, default=None)


class FunctionRuntime(QueueFed):
    """Runs ``handler`` (``module:function`` or ``path/to/file.py:function``) like a Lambda function.

    ``start()`` imports the handler in a worker (an InputError naming the spec if that fails, before
    any event is processed) and, with ``queue_url``, starts consuming the queue. ``invoke(event)``
    runs one synchronous attempt; ``submit(event)`` queues an asynchronous one with retries.
    """

    def __init__(
        self,
        handler: str,
        *,
        env: Mapping[str, str],
        endpoint_url: str | None,
        credentials: Credentials,
        region: str,
        queue_url: str | None = None,
        sqs_client_factory: Callable[[], Any] | None = None,
        sandbox: Sandbox | None = None,
        timeout_seconds: float = 60.0,
        time_scale: float = 1.0,
        function_name: str = "gdsim-responder",
        max_retries: int = 2,
        account_id: str | None = None,
        memory_limit_in_mb: int = 128,
        retry_delays: tuple[float, ...] = LAMBDA_RETRY_DELAYS,
        init_timeout_seconds: float = 10.0,
        poll_wait_seconds: int = 1,
        on_invocation: Callable[[Invocation], None] | None = None,
    ) -> None:
        if time_scale <= 0:
            raise InputError(f"time scale {time_scale} must be positive", field="--time-scale")
        if timeout_seconds <= 0:
            raise InputError(f"timeout {timeout_seconds} must be positive", field="responder.timeout_seconds")
        reserved = sorted(RESERVED_ENV.intersection(env))
        if reserved:
            raise InputError(f"{reserved[0]} is set by the function runtime and cannot be overridden",
                             field=f"responder.environment.{reserved[0]}", fix="remove it from the scenario")
        self.spec = parse_handler_spec(handler)
        self.function_name = function_name
        super().__init__(queue_url, account_id=account_id or (sandbox.account_id if sandbox else DEFAULT_ACCOUNT),
                         poll_wait_seconds=poll_wait_seconds)
        self.function_arn = function_arn(function_name, region=region, account_id=self.account_id)
        self.timeout_seconds = timeout_seconds
        self.time_scale = time_scale
        self.max_retries = max_retries
        self.retry_delays = retry_delays or (0.0,)
        self.invocations: list[Invocation] = []
        self.dead_letters: list[DeadLetter] = []
        self.poll_errors: list[str] = []
        self._init_timeout = init_timeout_seconds
        self._on_invocation = on_invocation
        self._memory = str(memory_limit_in_mb)
        self._env = self._worker_env(env, endpoint_url, credentials, region, time_scale)
        if sqs_client_factory is None and sandbox is not None:
            sqs_client_factory = lambda: sandbox.client("sqs")  # noqa: E731 (a deferred client)
        if queue_url and sqs_client_factory is None:
            raise ValueError("consuming a queue needs sqs_client_factory or sandbox")
        self._sqs_factory = sqs_client_factory
        self._worker: Worker | None = None
        self._invoke_lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._seq = itertools.count()
        self._running = 0
        self._started = False

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> FunctionRuntime:
        if self._started:
            return self
        self._started = True
        try:
            self._worker = self._spawn()
        except WorkerInitError as exc:
            self._stopped = True
            raise exc.input_error from None
        self._start_thread(self._invoke_loop, "gdsim-invoker")
        if self.queue_url:
            self._sqs = self._sqs_factory() if self._sqs_factory else None
            try:
                self._start_consuming("function runtime", "gdsim-consumer")
            except SandboxError:
                self.stop()
                raise
        return self

    def stop(self) -> None:
        """Stop consuming and kill the worker; idempotent, safe from any thread."""
        self._signal_stop()
        worker = self._worker
        if worker is not None:
            worker.kill()
        self._join_threads()

    def recycle(self) -> None:
        """Discard the warm worker: the next invocation starts cold."""
        with self._invoke_lock:
            if self._worker is not None:
                self._worker.kill()
                self._worker = None

    def __enter__(self) -> FunctionRuntime:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def worker_pid(self) -> int | None:
        worker = self._worker
        return worker.pid if worker is not None and worker.alive else None

    # -- invoking ---------------------------------------------------------------------------------

    def invoke(self, event: Any, *, request_id: str | None = None, attempt: int = 1,
               received_mono: float | None = None) -> Invocation:
        """One synchronous attempt (RequestResponse): no retries, recorded in ``invocations``."""
        if not self._started or self._stopped:
            raise RuntimeError("the function runtime is not running (call start())")
        request_id = request_id or str(uuid.uuid4())
        event_id, finding_id = event_ids(event)
        with self._invoke_lock:
            started = time.monotonic()
            init_ms: float | None = None
            worker = self._worker
            if worker is None or not worker.alive:
                try:
                    worker = self._spawn()
                except WorkerInitError as exc:
                    return self._record(Invocation(
                        request_id, event_id, finding_id, attempt, True, started, time.monotonic(), "error",
                        exc.detail or {"errorType": "Runtime.ImportModuleError", "errorMessage": str(exc)},
                        "", received_mono=received_mono))
                self._worker = worker
            cold = worker.invocations == 0
            if cold:
                init_ms = worker.init_ms
            logs_before = worker.init_logs if cold else ""
            outcome = worker.invoke(request_id, event, self.timeout_seconds)
            ended = time.monotonic()
        invocation = Invocation(
            request_id=request_id, event_id=event_id, finding_id=finding_id, attempt=attempt, cold=cold,
            started_mono=started, ended_mono=ended, outcome=outcome.outcome, error=outcome.error,
            logs=logs_before + outcome.logs, result=outcome.result, worker_pid=worker.pid, init_ms=init_ms,
            received_mono=received_mono,
        )
        if self._stopped and outcome.outcome != "ok":
            return invocation  # killed by stop(): not a failure of the handler
        return self._record(invocation)

    def submit(self, event: Any, *, delay_seconds: float = 0.0, received_mono: float | None = None) -> str:
        """Queue an asynchronous invocation (Event invocation type); returns its request id."""
        request_id = str(uuid.uuid4())
        item = _Pending(time.monotonic() + delay_seconds, next(self._seq), event, 1, request_id, received_mono)
        with self._cond:
            heapq.heappush(self._pending, item)
            self._cond.notify_all()
        return request_id

    # -- waiting ----------------------------------------------------------------------------------

    def wait_for_invocations(self, count: int, timeout: float) -> bool:
        """True once at least ``count`` invocations have been recorded."""
        return self._wait_until(lambda: len(self.invocations) >= count, timeout)

    # -- internals --------------------------------------------------------------------------------

    def _worker_env(self, env: Mapping[str, str], endpoint_url: str | None, credentials: Credentials,
                    region: str, time_scale: float) -> dict[str, str]:
        # Nothing of the harness's own AWS identity or configuration may leak to the responder.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO"))}
        result = {**inherited, **env}
        result.update(credentials.as_env())
        result.update({
            "PYTHONUNBUFFERED": "1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": self._memory,
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.function_name}",
            "GDSIM_TIME_SCALE": repr(float(time_scale)),
        })
        if endpoint_url:
            result["AWS_ENDPOINT_URL"] = endpoint_url
        return result

    def _spawn(self) -> Worker:
        stream = log_stream_name()
        env = {**self._env, "AWS_LAMBDA_LOG_STREAM_NAME": stream}
        argv = ["--handler", self.spec.as_arg(), "--function-name", self.function_name,
                "--function-arn", self.function_arn, "--memory", self._memory, "--log-stream", stream]
        worker = Worker(argv, env, self.spec.text)
        worker.spawn(self._init_timeout)
        return worker

    def _record(self, invocation: Invocation) -> Invocation:
        with self._cond:
            self.invocations.append(invocation)
            self._cond.notify_all()
        if self._on_invocation is not None:
            with contextlib.suppress(Exception):
                self._on_invocation(invocation)
        return invocation

    def _has_room(self) -> bool:
        # New events wait in the queue while a batch is already waiting here (retries awaiting their
        # time do not count: new events go on meanwhile, as with Lambda's asynchronous invocation).
        return sum(1 for item in self._pending if item.attempt == 1) < PREFETCH

    def _busy(self) -> bool:
        # Queued, running or awaiting a retry, besides what the consumer is handing over.
        return bool(self._pending or self._running) or super()._busy()

    def _invoke_loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._pending or self._pending[0].due > time.monotonic()):
                    wait = self._pending[0].due - time.monotonic() if self._pending else None
                    self._cond.wait(wait)
                if self._stopped:
                    return
                item = heapq.heappop(self._pending)
                self._running += 1
                self._cond.notify_all()  # room for the consumer
            try:
                invocation = self.invoke(item.event, request_id=item.request_id, attempt=item.attempt,
                                         received_mono=item.received_mono)
            except RuntimeError:
                invocation = None  # stopped meanwhile
            except Exception as exc:  # the loop must outlive anything one event can do to it
                now = time.monotonic()
                event_id, finding_id = event_ids(item.event)
                invocation = self._record(Invocation(
                    item.request_id, event_id, finding_id, item.attempt, False, now, now, "error",
                    {"errorType": "Runtime.InvokeError", "errorMessage": f"{type(exc).__name__}: {exc}",
                     "stackTrace": []}, "", received_mono=item.received_mono))
            with self._cond:
                self._running -= 1
                if invocation is not None and invocation.outcome != "ok" and not self._stopped:
                    self._after_failure(item, invocation)
                self._cond.notify_all()

    def _after_failure(self, item: _Pending, invocation: Invocation) -> None:
        if item.attempt <= self.max_retries:
            delay = self.retry_delays[min(item.attempt - 1, len(self.retry_delays) - 1)] / self.time_scale
            heapq.heappush(self._pending, _Pending(
                time.monotonic() + delay, next(self._seq), item.event, item.attempt + 1, item.request_id,
                item.received_mono))
            return
        self.dead_letters.append(DeadLetter(
            request_id=item.request_id, event_id=invocation.event_id, finding_id=invocation.finding_id,
            attempts=item.attempt, error=invocation.error, event=item.event, mono=time.monotonic()))

    def _deliver(self, message: Mapping[str, Any], received_mono: float) -> None:
        self.submit(self._event_of(message), received_mono=received_mono)

    def _receive_failed(self, error: Exception) -> None:
        self.poll_errors.append(f"{type(error).__name__}: {error}")
