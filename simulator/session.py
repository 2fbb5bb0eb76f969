"""What every run needs before its findings are injected: a sandbox with the scenario's environment, the
responder's own identity, the gateway that journals (and, under chaos, faults) the responder's calls, the
EventBridge rule and the running responder.

Each part is registered on the caller's ExitStack as soon as it exists, so a failure half-way (or Ctrl-C)
tears down exactly what was built. The runner judges one scenario on a session; storm mode many findings.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulator.errors import UsageError
from simulator.scenario import Scenario
from simulator.targets.base import Credentials, Sandbox, Target

if TYPE_CHECKING:
    from simulator.chaos.hooks import RunChaos
    from simulator.chaos.profile import ChaosProfile
    from simulator.runner import RunOptions


@dataclass
class Session:
    """The parts of one run, all registered for clean-up on the stack they were opened with."""

    scenario: Scenario
    target: Target
    sandbox: Sandbox
    env: Any  # ProvisionedEnvironment
    journal: Any  # Journal
    gateway: Any  # Gateway
    runtime: Any  # FunctionRuntime or a state machine responder
    route: Any  # DeliveryRoute
    responder_credentials: Credentials
    handler: str
    chaos: RunChaos

    @property
    def callers(self) -> frozenset[str]:
        """The access keys the system under test calls with (a state machine adds the emulator's own)."""
        return frozenset(getattr(self.runtime, "callers", None) or {self.responder_credentials.access_key_id})


def make_target(options: RunOptions) -> Target:
    if options.target == "moto":
        if options.fork_server is not None:
            return options.fork_server.target()  # type: ignore[no-any-return]
        from simulator.targets.moto import MotoTarget

        return MotoTarget()
    raise UsageError(f"--target {options.target}: only 'moto' is available in this version")


# The services whose clients every run builds first (provisioning, delivery, observers).
HARNESS_SERVICES = ("ec2", "iam", "sts", "events", "sqs", "sns")


def open_gateway(sandbox: Sandbox, stack: contextlib.ExitStack, *, responder_key: str) -> Any:
    """A started gateway to ``sandbox`` with a fresh journal that tells the responder's calls (made with
    ``responder_key``) apart; ``stack`` stops it."""
    from simulator.gateway import Gateway, Journal

    gateway = Gateway(sandbox.endpoint_url or "", Journal(), region=sandbox.region, account_id=sandbox.account_id)
    gateway.start()
    stack.callback(gateway.stop)
    gateway.label_caller(responder_key, "responder")
    return gateway


def create_responder_identity(sandbox: Sandbox, run_id: str) -> Credentials:
    """The responder's own credentials, so the journal can tell its calls from the harness's."""
    iam = sandbox.client("iam")
    name = f"{run_id}-responder"
    tags = [{"Key": "gdsim:run-id", "Value": run_id}, {"Key": "gdsim:logical-name", "Value": "responder"}]
    iam.create_user(UserName=name, Tags=tags)
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def open_session(scenario: Scenario, options: RunOptions, run_id: str, stack: contextlib.ExitStack, *,
                 profile: str | ChaosProfile | None = None) -> Session:
    """Start the sandbox, provision the scenario, and start the gateway (with the chaos profile's fault hook,
    if any), the responder's rule and the responder."""
    target = make_target(options)
    stack.callback(target.stop)
    options.say(f"starting {target.name} sandbox")
    sandbox = target.start()

    # The emulator loads its services in the background meanwhile: import the rest of the harness now.
    from simulator.chaos.hooks import attach_chaos
    from simulator.delivery import install_rule, warm_delivery
    from simulator.provision import provision

    # Model loading for the harness's clients overlaps the wait for the emulator's services.
    prepared = sandbox.prepare_clients(HARNESS_SERVICES)
    if hasattr(target, "warm"):
        target.warm()
    prepared.join()
    options.say(f"provisioning {scenario.id}")
    env = provision(scenario, sandbox, run_id)
    credentials = create_responder_identity(sandbox, run_id)

    gateway = open_gateway(sandbox, stack, responder_key=credentials.access_key_id)
    journal = gateway.journal
    chaos = attach_chaos(profile, seed=options.seed, scenario_id=scenario.id, time_scale=options.time_scale,
                         env=env, gateway=gateway)

    handler = options.responder or scenario.responder.handler
    if options.target == "moto":
        warm_delivery(sandbox, run_id)  # moto builds its pattern parser on the first delivery: keep it out of SLAs
    route = install_rule(sandbox, scenario.responder.rule.name, scenario.responder.rule.event_pattern, run_id)
    runtime = start_responder(handler, scenario=scenario, options=options, sandbox=sandbox, env=env,
                              gateway=gateway, route=route, target=target, credentials=credentials, stack=stack)
    return Session(scenario, target, sandbox, env, journal, gateway, runtime, route, credentials, handler, chaos)


def start_responder(handler: str, *, scenario: Scenario, options: RunOptions, sandbox: Sandbox, env: Any,
                    gateway: Any, route: Any, target: Target, credentials: Credentials,
                    stack: contextlib.ExitStack) -> Any:
    """Start the system under test: a Step Functions flow, or a Lambda-style handler in the function runtime."""
    from simulator.delivery import FunctionRuntime
    from simulator.stepfunctions import is_state_machine_responder
    from simulator.stepfunctions import start_responder as start_state_machine

    if is_state_machine_responder(handler):
        machine = start_state_machine(handler, scenario=scenario, sandbox=sandbox, env=env, gateway=gateway,
                                      route=route, target=target, credentials=credentials,
                                      time_scale=options.time_scale)
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
