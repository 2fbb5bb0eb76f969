"""Runs one scenario through its lifecycle: prepared -> injected -> observed -> judged -> cleaned.

Clean-up is guaranteed: every started part is registered on an ExitStack as soon as it exists,
and the clean-up itself runs with Ctrl-C deferred, so a second Ctrl-C cannot leave processes behind.
"""

from __future__ import annotations

import contextlib
import itertools
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

from simulator.errors import SandboxError
from simulator.scenario import Scenario
from simulator.session import open_session

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
    # Called (scenario id, sandbox=, env=, findings=, journal=) in the running thread just before injection; it
    # may block (a game day holds each finding until its scheduled time) or raise to end the run uninjected.
    before_injection: Callable[..., None] | None = None

    def say(self, message: str) -> None:
        if self.progress:
            self.progress(message)


def new_run_id() -> str:
    return f"gdsim-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(2)}"


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
    session = open_session(scenario, options, run_id, stack, profile=options.chaos)
    sandbox, env, journal, chaos = session.sandbox, session.env, session.journal, session.chaos

    from simulator.findings import generate_finding, wrap_in_envelope
    from simulator.observers import ObservationLoop, create_observer
    from simulator.oncall import start_oncall
    from simulator.provision import take_inventory
    from simulator.reports import ScenarioResult
    from simulator.stepfunctions import prime_subscriptions
    from simulator.verdicts import evaluate_invariants, judge_steps

    findings = [generate_finding(spec.type, rng=rng, account_id=sandbox.account_id, region=sandbox.region,
                                 resource=env.resources[spec.resource] if spec.resource else None,
                                 severity=spec.severity, allow_retired=scenario.allow_retired_types)
                for spec in scenario.findings]
    primary = findings[0]
    observers = {step.id: create_observer(step.expect.kind, step.expect.params, env, primary, scenario)
                 for step in scenario.steps}
    for observer in observers.values():
        observer.prepare(sandbox)
    # moto makes a signing key per SNS->SQS subscription on its first delivery: pay that before injection.
    prime_subscriptions(sandbox, [d["arn"] for d in env.resources.values() if d["kind"] == "topic"])
    oncall = start_oncall(scenario, sandbox, env, time_scale=options.time_scale)
    if oncall is not None:
        stack.callback(oncall.stop)
    inventory_before = take_inventory(sandbox, env)
    if options.before_injection is not None:
        options.before_injection(scenario.id, sandbox=sandbox, env=env, findings=findings, journal=journal)

    envelopes = [wrap_in_envelope(finding, rng=rng) for finding in findings]
    offsets = list(itertools.accumulate(spec.delay_seconds / options.time_scale for spec in scenario.findings))
    profile = chaos.profile
    options.say(f"injecting {', '.join(f['type'] for f in findings)}"
                + (f" under chaos profile {profile.name}" if profile else ""))
    # Without a profile the plan publishes each event once, when due: a plain run.
    injected_mono = chaos.start_injection(sandbox, envelopes, offsets=offsets, gateway=session.gateway,
                                          cancel=options.cancel, stack=stack)

    longest_sla = max((step.within_seconds for step in scenario.steps), default=0.0)
    window = longest_sla * (1 + LATE_WINDOW_FACTOR) / options.time_scale + chaos.span_seconds
    loop = ObservationLoop(sandbox, journal, observers, injected_mono=injected_mono,
                           deadline_mono=injected_mono + window, stop_event=options.cancel,
                           on_observation=_observation_relay(options, scenario.id))
    options.say("observing")
    stack.callback(loop.cleanup)
    observations = loop.run()
    observed_for = (loop.finished_mono or time.monotonic()) - injected_mono
    if not options.cancel.is_set():
        chaos.wait_for_deliveries()  # late duplicates and updates are judged too
    runtime = session.runtime
    if not options.cancel.is_set():  # after Ctrl-C the sandbox goes now, whatever the responder is doing
        runtime.wait_idle(timeout=max(1.0, scenario.responder.timeout_seconds))
    inventory_after = take_inventory(sandbox, env)

    callers = session.callers
    steps = judge_steps(scenario.steps, observations, injected_mono, options.time_scale)
    invariants = evaluate_invariants(
        scenario=scenario, env=env, journal=journal, findings=findings, steps=steps,
        invocations=runtime.invocations, dead_letters=runtime.dead_letters,
        inventory_before=inventory_before, inventory_after=inventory_after, responder_callers=callers,
    )
    result = ScenarioResult.build(
        scenario=scenario, findings=findings, steps=steps, invariants=invariants,
        invocations=runtime.invocations, journal=journal, seed=options.seed,
        time_scale=options.time_scale, target=options.target, responder=session.handler, chaos=chaos.argument,
        dead_letters=runtime.dead_letters, observed_for_wall_seconds=observed_for,
        injected_mono=injected_mono, harness_errors=[*session.gateway.errors, *chaos.errors],
    )
    result.chaos = chaos.report(steps, invariants, journal, finding_id=primary.get("id"),
                                responder_callers=callers, extra_errors=session.gateway.errors)
    return result


def _observation_relay(options: RunOptions, scenario_id: str) -> Callable[[str, Any], None] | None:
    callback = options.on_observation
    if callback is None:
        return None
    return lambda step_id, observation: callback(scenario_id, step_id, observation)


def ensure_emulator_available(options: RunOptions) -> None:
    if options.target == "moto":
        try:
            import moto.server  # noqa: F401
        except ImportError as exc:  # pragma: no cover - install problem
            raise SandboxError(f"moto server is not installed ({exc}); run `pip install -e .`") from None
