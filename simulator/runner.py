"""Runs one scenario through its lifecycle: prepared -> injected -> observed -> judged -> cleaned.

Clean-up is guaranteed: every started part is registered on an ExitStack as soon as it exists,
and the clean-up itself runs with Ctrl-C deferred, so a second Ctrl-C cannot leave processes behind.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulator.errors import SandboxError, UsageError
from simulator.scenario import Scenario
from simulator.targets.base import Credentials, Sandbox, Target

# Extra wall time past the longest SLA, so a late effect is seen as `late` rather than `missing`.
LATE_WINDOW_FACTOR = 0.5
DEFAULT_TIME_SCALE = 60.0


@dataclass
class RunOptions:
    target: str = "moto"
    responder: str | None = None
    time_scale: float = DEFAULT_TIME_SCALE
    seed: int = field(default_factory=lambda: secrets.randbelow(2**31))
    report_dir: Path | None = None
    endpoint_url: str | None = None
    chaos: str | None = None
    progress: Callable[[str], None] | None = None
    # A warm emulator to fork sandboxes from (run --all); None starts a fresh emulator per scenario.
    fork_server: Any = None
    # Set to end every scenario's observation early (Ctrl-C while scenarios run in threads).
    cancel: threading.Event = field(default_factory=threading.Event)
    # Told (scenario id, step id, Observation) as each step is seen met, in the observing thread (live displays).
    on_observation: Callable[[str, str, Any], None] | None = None

    def say(self, message: str) -> None:
        if self.progress:
            self.progress(message)


def new_run_id() -> str:
    return f"gdsim-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(2)}"


def make_target(options: RunOptions) -> Target:
    if options.target == "moto":
        if options.fork_server is not None:
            return options.fork_server.target()  # type: ignore[no-any-return]
        from simulator.targets.moto import MotoTarget

        return MotoTarget()
    raise UsageError(f"--target {options.target}: only 'moto' is available in this version")


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold Ctrl-C while cleaning up; re-raise it afterwards so the user still gets out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            raise KeyboardInterrupt


def create_responder_identity(sandbox: Sandbox, run_id: str) -> Credentials:
    """The responder's own credentials, so the journal can tell its calls from the harness's."""
    iam = sandbox.client("iam")
    name = f"{run_id}-responder"
    tags = [{"Key": "gdsim:run-id", "Value": run_id}, {"Key": "gdsim:logical-name", "Value": "responder"}]
    iam.create_user(UserName=name, Tags=tags)
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def run_scenario(scenario: Scenario, options: RunOptions, run_id: str) -> Any:
    """Run one scenario on a fresh sandbox and return its ScenarioResult."""
    stack = contextlib.ExitStack()
    try:
        return _run(scenario, options, run_id, stack)
    finally:
        with deferred_interrupts():
            stack.close()


def _run(scenario: Scenario, options: RunOptions, run_id: str, stack: contextlib.ExitStack) -> Any:
    rng = random.Random(f"{options.seed}:{scenario.id}")
    target = make_target(options)
    stack.callback(target.stop)
    options.say(f"starting {target.name} sandbox")
    sandbox = target.start()

    # The emulator loads its services in the background meanwhile: import the rest of the harness now.
    from simulator.delivery import inject_event, install_rule, warm_delivery
    from simulator.findings import generate_finding, wrap_in_envelope
    from simulator.gateway import Gateway, Journal
    from simulator.observers import ObservationLoop, create_observer
    from simulator.oncall import start_oncall
    from simulator.provision import provision, take_inventory
    from simulator.reports import ScenarioResult
    from simulator.stepfunctions import prime_subscriptions
    from simulator.verdicts import evaluate_invariants, judge_steps

    if hasattr(target, "warm"):
        target.warm()

    options.say(f"provisioning {scenario.id}")
    env = provision(scenario, sandbox, run_id)
    responder_credentials = create_responder_identity(sandbox, run_id)

    journal = Journal()
    gateway = Gateway(sandbox.endpoint_url or "", journal, region=sandbox.region, account_id=sandbox.account_id)
    gateway.start()
    stack.callback(gateway.stop)
    gateway.label_caller(responder_credentials.access_key_id, "responder")

    handler = options.responder or scenario.responder.handler
    if options.target == "moto":
        warm_delivery(sandbox, run_id)  # moto builds its pattern parser on the first delivery: keep it out of SLAs
    route = install_rule(sandbox, scenario.responder.rule.name, scenario.responder.rule.event_pattern, run_id)
    runtime = _start_responder(handler, scenario=scenario, options=options, sandbox=sandbox, env=env,
                               gateway=gateway, route=route, target=target, credentials=responder_credentials,
                               stack=stack)

    findings = []
    for spec in scenario.findings:
        resource = env.resources[spec.resource] if spec.resource else None
        findings.append(generate_finding(
            spec.type, rng=rng, account_id=sandbox.account_id, region=sandbox.region,
            resource=resource, severity=spec.severity, allow_retired=scenario.allow_retired_types,
        ))
    primary = findings[0]
    observers = {
        step.id: create_observer(step.expect.kind, step.expect.params, env, primary, scenario)
        for step in scenario.steps
    }
    for observer in observers.values():
        observer.prepare(sandbox)
    # moto makes a signing key per SNS->SQS subscription on its first delivery: pay that before injection.
    prime_subscriptions(sandbox, [d["arn"] for d in env.resources.values() if d["kind"] == "topic"])
    oncall = start_oncall(scenario, sandbox, env, time_scale=options.time_scale)
    if oncall is not None:
        stack.callback(oncall.stop)
    inventory_before = take_inventory(sandbox, env)

    options.say(f"injecting {', '.join(f['type'] for f in findings)}")
    injections = []
    for spec, finding in zip(scenario.findings, findings, strict=True):
        if spec.delay_seconds:
            time.sleep(spec.delay_seconds / options.time_scale)
        gateway.findings.add(finding)
        injections.append(inject_event(sandbox, wrap_in_envelope(finding, rng=rng)))
    injected_mono = injections[0].mono

    longest_sla = max((step.within_seconds for step in scenario.steps), default=0.0)
    window = longest_sla * (1 + LATE_WINDOW_FACTOR) / options.time_scale
    loop = ObservationLoop(sandbox, journal, observers, injected_mono=injected_mono,
                           deadline_mono=injected_mono + window, stop_event=options.cancel,
                           on_observation=_observation_relay(options, scenario.id))
    options.say("observing")
    stack.callback(loop.cleanup)
    observations = loop.run()
    observed_for = (loop.finished_mono or time.monotonic()) - injected_mono
    runtime.wait_idle(timeout=max(1.0, scenario.responder.timeout_seconds))
    inventory_after = take_inventory(sandbox, env)

    steps = judge_steps(scenario.steps, observations, injected_mono, options.time_scale)
    invariants = evaluate_invariants(
        scenario=scenario, env=env, journal=journal, findings=findings, steps=steps,
        invocations=runtime.invocations, dead_letters=runtime.dead_letters,
        inventory_before=inventory_before, inventory_after=inventory_after,
        responder_callers=getattr(runtime, "callers", {responder_credentials.access_key_id}),
    )
    return ScenarioResult.build(
        scenario=scenario, findings=findings, steps=steps, invariants=invariants,
        invocations=runtime.invocations, journal=journal, seed=options.seed,
        time_scale=options.time_scale, target=options.target, responder=handler,
        dead_letters=runtime.dead_letters, observed_for_wall_seconds=observed_for,
        injected_mono=injected_mono, harness_errors=[*gateway.errors, *journal.subscriber_errors],
    )


def _observation_relay(options: RunOptions, scenario_id: str) -> Callable[[str, Any], None] | None:
    callback = options.on_observation
    if callback is None:
        return None
    return lambda step_id, observation: callback(scenario_id, step_id, observation)


def _start_responder(handler: str, *, scenario: Scenario, options: RunOptions, sandbox: Sandbox, env: Any,
                     gateway: Any, route: Any, target: Target, credentials: Credentials,
                     stack: contextlib.ExitStack) -> Any:
    """Start the system under test: a Step Functions flow, or a Lambda-style handler in the function runtime."""
    from simulator.delivery import FunctionRuntime
    from simulator.stepfunctions import is_state_machine_responder, start_responder

    if is_state_machine_responder(handler):
        machine = start_responder(handler, scenario=scenario, sandbox=sandbox, env=env, gateway=gateway, route=route,
                                  target=target, credentials=credentials, time_scale=options.time_scale)
        stack.callback(machine.stop)
        return machine
    runtime = FunctionRuntime(
        handler,
        env={key: env.resolve(value) for key, value in scenario.responder.environment.items()},
        endpoint_url=gateway.url,
        credentials=credentials,
        region=sandbox.region,
        sandbox=sandbox,
        queue_url=route.queue_url,
        timeout_seconds=scenario.responder.timeout_seconds,
        time_scale=options.time_scale,
    )
    stack.callback(runtime.stop)
    runtime.start()
    return runtime


def ensure_emulator_available(options: RunOptions) -> None:
    if options.target == "moto":
        try:
            import moto.server  # noqa: F401
        except ImportError as exc:  # pragma: no cover - install problem
            raise SandboxError(f"moto server is not installed ({exc}); run `pip install -e .`") from None
