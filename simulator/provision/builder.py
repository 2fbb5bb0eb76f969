"""Building a scenario's environment in a sandbox: all of it, or none of it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from functools import partial

from botocore.exceptions import BotoCoreError, ClientError

from simulator.errors import GdsimError
from simulator.provision.compute import Image, build_instances, resolve_images
from simulator.provision.context import BuildContext
from simulator.provision.environment import ProvisionedEnvironment
from simulator.provision.errors import ProvisionError
from simulator.provision.identity import build_role, build_user
from simulator.provision.network import build_security_groups, build_subnets, build_vpc
from simulator.provision.policies import apply_policies
from simulator.provision.storage import build_bucket, build_topic
from simulator.provision.teardown import teardown
from simulator.scenario.model import Environment, Scenario
from simulator.targets.base import Sandbox


def provision(scenario: Scenario, sandbox: Sandbox, run_id: str) -> ProvisionedEnvironment:
    """Build ``scenario.environment`` in ``sandbox``, every resource tagged with ``run_id``.

    On any failure (or Ctrl-C) everything already built is torn down before the error propagates:
    a sandbox is never left half-built.
    """
    environment = scenario.environment
    env = ProvisionedEnvironment(run_id=run_id, account_id=sandbox.account_id, region=sandbox.region,
                                 bystander_names=frozenset(environment.bystander_names))
    ctx = BuildContext(sandbox, env)
    try:
        _build(ctx, environment)
        topic = env.resources[scenario.escalation.topic]
        env.escalation = {"topic_arn": topic["arn"], "levels": [
            {"level": level.level, "contact": level.contact, "after_seconds": level.after_seconds}
            for level in scenario.escalation.levels]}
    except BaseException as exc:
        cleaned = teardown(env, sandbox, verify_tags=False)
        if isinstance(exc, _StepFailed) and isinstance(exc.error, ClientError | BotoCoreError | GdsimError):
            raise ProvisionError(f"provisioning {scenario.id} failed at {exc.what}: {_describe(exc.error)}; "
                                 f"rolled back ({cleaned.summary()})") from exc.error
        if isinstance(exc, _StepFailed):
            raise exc.error from None
        raise
    return env


Steps = list[tuple[str, Callable[[], None]]]


class _StepFailed(Exception):
    def __init__(self, what: str, error: BaseException) -> None:
        super().__init__(what)
        self.what = what
        self.error = error


def _build(ctx: BuildContext, environment: Environment) -> None:
    """Network, identities and storage do not depend on one another: build them side by side, then
    the instances (which need a subnet and an instance profile), then the policies."""
    images: dict[str, Image] = {}
    network: Steps = []
    if environment.vpc is not None:
        network.append((f"vpc {environment.vpc.name}", partial(build_vpc, ctx, environment.vpc)))
    if environment.subnets:
        network.append(("subnets", partial(build_subnets, ctx, environment)))
    if environment.security_groups:
        network.append(("security groups", partial(build_security_groups, ctx, environment)))
    if environment.instances:
        network.append(("machine image", lambda: images.update(resolve_images(ctx, environment))))
    identities: Steps = [(f"role {role.name}", partial(build_role, ctx, role)) for role in environment.roles]
    identities += [(f"user {user.name}", partial(build_user, ctx, user)) for user in environment.users]
    storage: Steps = [(f"bucket {bucket.name}", partial(build_bucket, ctx, bucket)) for bucket in environment.buckets]
    storage += [(f"topic {topic.name}", partial(build_topic, ctx, topic)) for topic in environment.topics]

    stop = threading.Event()
    groups = [steps for steps in (network, identities, storage) if steps]
    pool = ThreadPoolExecutor(max_workers=max(1, len(groups)), thread_name_prefix="provision")
    try:
        futures = [pool.submit(_run, steps, stop) for steps in groups]
        wait(futures)
    except BaseException:
        stop.set()
        raise
    finally:
        # Every group finishes its current call before clean-up starts, so nothing is created after it.
        pool.shutdown(wait=True, cancel_futures=True)
    for future in futures:
        if future.exception() is not None:
            raise future.exception()  # type: ignore[misc]
    later: Steps = []
    if environment.instances:
        later.append(("instances", lambda: build_instances(ctx, environment, images)))
    later.append(("policies", partial(apply_policies, ctx, environment)))
    _run(later, stop)


def _run(steps: Steps, stop: threading.Event) -> None:
    for what, step in steps:
        if stop.is_set():
            return
        try:
            step()
        except BaseException as exc:
            stop.set()
            raise _StepFailed(what, exc) from exc


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        operation = getattr(exc, "operation_name", "")
        return f"{operation} said {error.get('Code')}: {error.get('Message')}"
    return str(exc)
