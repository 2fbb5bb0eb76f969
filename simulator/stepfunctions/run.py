"""Running a deployed state machine as the responder: one execution per delivered event, watched to its end.

On AWS an EventBridge rule targets the state machine directly. The emulator delivers rules only to
queues (and logs, archives, buses), so the harness starts the execution itself from what the rule put
on the queue, with the event exactly as EventBridge delivers it (``simulator.delivery.reconcile``).
Executions are started and watched with the harness's own credentials, straight to the sandbox: what
the state machine itself does goes through the gateway under the emulator's internal key.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from simulator.delivery.queue_fed import QueueFed, event_ids
from simulator.delivery.runtime import Invocation
from simulator.targets.base import Credentials, Sandbox

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
STEPFUNCTIONS_LABEL = "stepfunctions"
_OUTCOMES = {"SUCCEEDED": "ok", "FAILED": "error", "ABORTED": "error", "TIMED_OUT": "timeout"}
_HISTORY_LOG_LIMIT = 200


def execution_name(finding_id: str | None) -> str:
    """A unique execution name that still says which finding it handles (80 characters at most)."""
    readable = re.sub(r"[^A-Za-z0-9_-]", "-", finding_id or "")[:48] or "event"
    return f"{readable}-{uuid.uuid4().hex[:12]}"


def start_execution(client: Any, state_machine_arn: str, payload: Any, *, name: str | None = None) -> str:
    """StartExecution with ``payload`` as JSON input; returns the execution ARN."""
    return str(client.start_execution(stateMachineArn=state_machine_arn, name=name or execution_name(None),
                                      input=json.dumps(payload, default=str))["executionArn"])


def wait_for_execution(client: Any, execution_arn: str, *, timeout: float, poll_interval: float = 0.05
                       ) -> dict[str, Any]:
    """DescribeExecution once the execution has ended, or its last description when ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = client.describe_execution(executionArn=execution_arn)
        if described["status"] in TERMINAL_STATUSES or time.monotonic() >= deadline:
            return described
        time.sleep(poll_interval)


def execution_history(client: Any, execution_arn: str) -> list[dict[str, Any]]:
    """Every history event of an execution, oldest first."""
    events: list[dict[str, Any]] = []
    for page in client.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page.get("events", []))
    return sorted(events, key=lambda event: event.get("id", 0))


def history_lines(events: list[dict[str, Any]]) -> list[str]:
    """A readable trace of an execution: the states it went through and why any task failed."""
    lines = []
    for event in events:
        kind = str(event.get("type", ""))
        details: dict[str, Any] = next(
            (value for key, value in event.items() if key.endswith("EventDetails")), {}) or {}
        if kind.endswith("StateEntered"):
            lines.append(f"entered {details.get('name')}")
        elif kind in ("TaskFailed", "ExecutionFailed", "LambdaFunctionFailed", "MapIterationFailed"):
            lines.append(f"{kind}: {details.get('error', '')} {str(details.get('cause', ''))[:300]}".rstrip())
        elif kind in ("ExecutionSucceeded", "ExecutionAborted", "ExecutionTimedOut"):
            lines.append(kind)
    return lines[-_HISTORY_LOG_LIMIT:]


@dataclass
class Execution:
    """One execution the harness started, and how it ended."""

    arn: str
    name: str
    event_id: str | None
    finding_id: str | None
    started_mono: float
    received_mono: float | None = None
    ended_mono: float | None = None
    status: str = "RUNNING"
    output: Any = None
    error: str | None = None
    cause: str | None = None

    def as_invocation(self, logs: str = "") -> Invocation:
        """The execution as the invocation record reports and invariants read."""
        error = None if self.status == "SUCCEEDED" else {
            "errorType": self.error or f"States.{self.status.title()}", "errorMessage": self.cause or self.status}
        return Invocation(
            request_id=self.name, event_id=self.event_id, finding_id=self.finding_id, attempt=1, cold=False,
            started_mono=self.started_mono, ended_mono=self.ended_mono or time.monotonic(),
            outcome=_OUTCOMES.get(self.status, "error"), error=error, logs=logs, result=self.output,
            received_mono=self.received_mono)


class StateMachineResponder(QueueFed):
    """The responder a deployed state machine makes: consumes the rule's queue (if given), starts one
    execution per event, and watches executions to their end.

    It offers what the harness reads from a function runtime: ``invocations`` (one record per ended
    execution: ok, error or timeout), ``dead_letters`` (none: an execution's failure is its own record),
    ``wait_idle`` and ``stop``; plus ``callers``, the access keys the responder's calls are made with.
    """

    def __init__(self, deployment: Any, *, sandbox: Sandbox, queue_url: str | None = None, bridge: Any = None,
                 internal_access_key: str | None = None, poll_wait_seconds: int = 1,
                 watch_interval: float = 0.05) -> None:
        from simulator.targets.moto import MOTO_INTERNAL_ACCESS_KEY

        super().__init__(queue_url, account_id=sandbox.account_id, poll_wait_seconds=poll_wait_seconds)
        self.deployment = deployment
        self.sandbox = sandbox
        self.bridge = bridge
        self.executions: list[Execution] = []
        self.invocations: list[Invocation] = []
        self.dead_letters: list[Any] = []
        self.errors: list[str] = []
        keys = {internal_access_key or MOTO_INTERNAL_ACCESS_KEY}
        if bridge is not None:
            keys.add(bridge.credentials.access_key_id)
        self.callers = frozenset(keys)
        self._watch_interval = watch_interval
        # Run at stop(), last added first (e.g. give the emulator its own calls back).
        self.cleanups: list[Callable[[], None]] = []
        self._sfn = sandbox.client("stepfunctions")
        self._sqs = sandbox.client("sqs") if queue_url else None

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> StateMachineResponder:
        if self._threads:
            return self
        if self._sqs is not None:
            self._start_consuming("state machine responder", "gdsim-sfn-consumer")
        self._start_thread(self._watch_loop, "gdsim-sfn-watcher")
        return self

    def stop(self) -> None:
        """Stop consuming, abort executions still running (so none acts after the run), stop functions."""
        with self._cond:
            self._stopped = True
            running = [execution for execution in self.executions if execution.status == "RUNNING"]
            self._cond.notify_all()
        for execution in running:
            with contextlib.suppress(Exception):
                self._sfn.stop_execution(executionArn=execution.arn, cause="the harness stopped the run")
        self._join_threads()
        if self.bridge is not None:
            self.bridge.stop()
        while self.cleanups:
            with contextlib.suppress(Exception):
                self.cleanups.pop()()

    def __enter__(self) -> StateMachineResponder:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- starting ---------------------------------------------------------------------------------

    def submit(self, event: Any, *, received_mono: float | None = None) -> Execution:
        """Start one execution with ``event`` as its input."""
        event_id, finding_id = event_ids(event)
        name = execution_name(finding_id)
        started = time.monotonic()
        arn = start_execution(self._sfn, self.deployment.arn, event, name=name)
        execution = Execution(arn, name, event_id, finding_id, started, received_mono)
        with self._cond:
            self.executions.append(execution)
            self._cond.notify_all()
        return execution

    # -- waiting ----------------------------------------------------------------------------------

    @property
    def running(self) -> list[Execution]:
        with self._cond:
            return [execution for execution in self.executions if execution.status == "RUNNING"]

    def wait_for_executions(self, count: int, timeout: float) -> bool:
        """True once at least ``count`` executions have ended."""
        return self._wait_until(lambda: sum(1 for e in self.executions if e.status != "RUNNING") >= count, timeout)

    @property
    def function_invocations(self) -> list[Invocation]:
        """Invocations of the Lambda functions the state machine called (empty without any)."""
        return list(self.bridge.invocations) if self.bridge is not None else []

    # -- internals --------------------------------------------------------------------------------

    def _busy(self) -> bool:
        # An execution still running may yet act; one being started is in ``_receiving``.
        return any(e.status == "RUNNING" for e in self.executions) or super()._busy()

    def _deliver(self, message: Mapping[str, Any], received_mono: float) -> None:
        try:
            self.submit(self._event_of(message), received_mono=received_mono)
        except Exception as error:  # one bad start must not lose the other events
            self.errors.append(f"starting an execution failed: {error!r}")

    def _receive_failed(self, error: Exception) -> None:
        self.errors.append(f"receiving from the rule's queue failed: {error!r}")

    def _watch_loop(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                running = [execution for execution in self.executions if execution.status == "RUNNING"]
                if not running:
                    self._cond.wait(self._watch_interval * 4)
                    continue
            for execution in running:
                try:
                    described = self._sfn.describe_execution(executionArn=execution.arn)
                except Exception as error:
                    self.errors.append(f"describing {execution.name} failed: {error!r}")
                    continue
                if described["status"] in TERMINAL_STATUSES:
                    self._finish(execution, described)
            with self._cond:
                if self._stopped:
                    return
                self._cond.wait(self._watch_interval)

    def _finish(self, execution: Execution, described: Mapping[str, Any]) -> None:
        ended = time.monotonic()
        output: Any = described.get("output")
        with contextlib.suppress(TypeError, ValueError):
            output = json.loads(output) if isinstance(output, str) else output
        try:
            logs = "\n".join(history_lines(execution_history(self._sfn, execution.arn)))
        except Exception as error:
            logs = f"(history unavailable: {error!r})"
        with self._cond:
            if self._stopped:
                return  # aborted by stop(): not a result of the responder
            execution.ended_mono = ended
            execution.status = str(described["status"])
            execution.output = output
            execution.error = described.get("error")
            execution.cause = described.get("cause")
            self.invocations.append(execution.as_invocation(logs))
            self._cond.notify_all()


def start_responder(responder: str, *, scenario: Any, sandbox: Sandbox, env: Any, gateway: Any, route: Any,
                    target: Any, credentials: Credentials, time_scale: float) -> StateMachineResponder:
    """Deploy the ``stepfunctions:`` responder and start delivering the rule's events to it.

    The emulator's own calls (the state machine's tasks) are routed through ``gateway`` and labelled
    ``stepfunctions`` in the journal; Lambda tasks run in the function runtime with ``credentials``
    and the scenario's responder environment. Stop the returned responder to clean up.
    """
    from simulator.stepfunctions.definition import load_definition, task_actions
    from simulator.stepfunctions.deploy import deploy_state_machine, services_of, warm_interpreter
    from simulator.stepfunctions.lambda_bridge import LambdaBridge
    from simulator.stepfunctions.spec import state_machine_path
    from simulator.targets.moto import MOTO_INTERNAL_ACCESS_KEY

    path = state_machine_path(responder)
    route_internal = getattr(target, "route_internal_calls", None)
    restore_route: list[Callable[[], None]] = []
    if callable(route_internal) and sandbox.endpoint_url:
        # Still straight to the emulator: the warm-up's calls are the harness's, not the responder's.
        warm_interpreter(sandbox, services_of(task_actions(load_definition(path))), env.run_id)
        route_internal(gateway.url)
        # The emulator outlives this responder (a shared sandbox): its own calls must not go on to a stopped gateway.
        endpoint = sandbox.endpoint_url
        restore_route.append(lambda: route_internal(endpoint))
    gateway.label_caller(MOTO_INTERNAL_ACCESS_KEY, STEPFUNCTIONS_LABEL)
    function_env = {key: env.resolve(value) for key, value in scenario.responder.environment.items()}
    bridge = LambdaBridge(gateway, sandbox, run_id=env.run_id, credentials=credentials, env=function_env,
                          time_scale=time_scale, timeout_seconds=scenario.responder.timeout_seconds)
    try:
        deployment = deploy_state_machine(path, sandbox=sandbox, env=env, scenario=scenario,
                                          time_scale=time_scale, bridge=bridge)
        machine = StateMachineResponder(deployment, sandbox=sandbox, queue_url=route.queue_url, bridge=bridge)
        machine.cleanups.extend(restore_route)
        return machine.start()
    except BaseException:
        bridge.stop()
        for restore in restore_route:
            restore()
        raise
