"""Deploying a definition into the sandbox: its ``${...}`` values, its execution role, the state machine.

The values a definition may use:

* ``${env.NAME}``: the scenario's ``responder.environment`` entry NAME, resolved (the configuration a
  Lambda responder of the same scenario receives, so one scenario can judge both kinds);
* ``${escalation.topic_arn}``, ``${escalation.contact.N}`` and ``${escalation.levels}``: the escalation
  path; the levels as a list of ``{"level", "contact", "after_seconds", "wait_seconds"}`` where
  ``wait_seconds`` is the whole number of wall seconds to wait after the previous level (the runbook's
  time divided by ``--time-scale``: Step Functions waits whole seconds);
* ``${ack_table}``: the run's escalation table (DynamoDB, created on first use): one item per finding, key
  ``finding_id``, which a ladder may claim and the on-call acknowledges by setting ``level`` on it;
* ``${lambda:MODULE:FUNCTION}`` (or ``${lambda:FILE.py:FUNCTION}``): the ARN of a Lambda function whose
  code runs in the harness's function runtime;
* anything a scenario may reference: ``${miner.id}``, ``${pager.arn}``, ``${run_id}``, ``${account_id}``...
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from simulator.errors import InputError, SandboxError, UsageError
from simulator.stepfunctions.definition import load_definition, substitute, task_actions
from simulator.stepfunctions.names import ACK_KEY, ack_table_name, resource_name
from simulator.targets.base import Sandbox

RUN_TAG = "gdsim:run-id"
# Rounding every level to whole wall seconds may move it by at most this share of its runbook time.
MAX_LEVEL_DISTORTION = 0.05
_TRUST = {
    "states": "states.amazonaws.com",
    "lambda": "lambda.amazonaws.com",
}


@dataclass(frozen=True)
class LevelTiming:
    """One escalation level as the deployed ladder runs it."""

    level: int
    contact: str
    after_seconds: float  # runbook time from the first page, as the scenario says
    wait_seconds: int  # wall seconds the ladder waits after the previous level
    paged_after_seconds: float  # the runbook time the whole wall seconds amount to

    def as_value(self) -> dict[str, Any]:
        return {"level": self.level, "contact": self.contact, "after_seconds": self.after_seconds,
                "wait_seconds": self.wait_seconds}


@dataclass
class Deployment:
    """A state machine deployed for one run."""

    name: str
    arn: str
    role_arn: str
    source: Path
    definition: dict[str, Any]
    ack_table: str | None = None
    levels: list[LevelTiming] = field(default_factory=list)
    functions: dict[str, str] = field(default_factory=dict)  # handler spec -> function ARN


def ladder_levels(levels: Sequence[Mapping[str, Any]], time_scale: float) -> list[LevelTiming]:
    """The escalation levels in whole wall seconds at ``time_scale``; UsageError when rounding would move
    a level by more than 5% of its runbook time (a time scale too large for the path)."""
    if time_scale <= 0:
        raise UsageError(f"--time-scale {time_scale:g}: must be a positive number")
    timings: list[LevelTiming] = []
    previous = 0
    for level in sorted(levels, key=lambda item: int(item["level"])):
        after = float(level["after_seconds"])
        cumulative = max(previous, math.floor(after / time_scale + 0.5))
        paged_after = cumulative * time_scale
        if abs(paged_after - after) > MAX_LEVEL_DISTORTION * after:
            raise UsageError(
                f"--time-scale {time_scale:g}: escalation level {level['level']} ({after:g} s of runbook time) "
                f"would be paged after {paged_after:g} s, since Step Functions waits whole seconds; "
                f"use a time scale of at most {max(1.0, after / 10):g}")
        timings.append(LevelTiming(int(level["level"]), str(level.get("contact") or ""), after,
                                   cumulative - previous, paged_after))
        previous = cumulative
    return timings


def create_ack_table(sandbox: Sandbox, run_id: str, *, table_name: str | None = None, client: Any = None) -> str:
    """The run's escalation table (one item per finding, keyed by ``finding_id``); idempotent."""
    dynamodb = client or sandbox.client("dynamodb")
    name = table_name or ack_table_name(run_id)
    try:
        dynamodb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": ACK_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": ACK_KEY, "AttributeType": "S"}],
            Tags=[{"Key": RUN_TAG, "Value": run_id}])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise SandboxError(f"creating the escalation table {name} failed: {error}") from error
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return name


def service_role(sandbox: Sandbox, name: str, service: str, actions: Sequence[str], run_id: str, *,
                 client: Any = None) -> str:
    """A role ``service`` (states or lambda) may assume, allowed exactly ``actions``; returns its ARN."""
    iam = client or sandbox.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": _TRUST[service]}, "Action": "sts:AssumeRole"}]}
    try:
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                              Description="gdsim: runs a responder under test",
                              Tags=[{"Key": RUN_TAG, "Value": run_id}])["Role"]["Arn"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "EntityAlreadyExists":
            raise SandboxError(f"creating role {name} failed: {error}") from error
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    if actions:
        policy = {"Version": "2012-10-17",
                  "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}
        iam.put_role_policy(RoleName=name, PolicyName="responder-actions", PolicyDocument=json.dumps(policy))
    return str(arn)


# A read-only call per service, to load its client in the interpreter before anything is measured.
_WARM_CALLS = {
    "sns": ("listTopics", {}), "dynamodb": ("listTables", {"Limit": 1}), "ec2": ("describeRegions", {}),
    "iam": ("listRoles", {"MaxItems": 1}), "cloudtrail": ("describeTrails", {}), "lambda": ("listFunctions", {}),
    "sqs": ("listQueues", {}), "s3": ("listBuckets", {}), "sts": ("getCallerIdentity", {}),
    "states": ("listStateMachines", {}), "events": ("listRules", {}),
}


def services_of(actions: Sequence[str]) -> list[str]:
    """The services behind IAM actions (``ec2:DescribeInstances`` -> ``ec2``), in order."""
    return list(dict.fromkeys(action.split(":", 1)[0] for action in actions))


def warm_interpreter(sandbox: Sandbox, services: Sequence[str], run_id: str, *, timeout: float = 30.0) -> float:
    """Run one throwaway execution making a read-only call to each service, then delete it; returns seconds.

    The emulator's interpreter builds an SDK client per task and loads each service's model on first use
    (about a quarter of a second each): paying that before injection keeps it out of measured times.
    Meant for emulators; call it before routing the interpreter's calls through the gateway.
    """
    started = time.monotonic()
    known = [service for service in services if service in _WARM_CALLS]
    if not known:
        return 0.0
    states: dict[str, Any] = {}
    for index, service in enumerate(known):
        action, parameters = _WARM_CALLS[service]
        sdk_service = "sfn" if service == "states" else service
        states[f"warm-{index}"] = {
            "Type": "Task", "Resource": f"arn:aws:states:::aws-sdk:{sdk_service}:{action}",
            "Parameters": parameters, "ResultPath": None,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": None,
                       "Next": f"warm-{index + 1}" if index + 1 < len(known) else "done"}],
            "Next": f"warm-{index + 1}" if index + 1 < len(known) else "done"}
    states["done"] = {"Type": "Succeed"}
    sfn = sandbox.client("stepfunctions")
    role = f"arn:aws:iam::{sandbox.account_id}:role/{resource_name(run_id, 'warm-up', 64)}"
    arn = sfn.create_state_machine(name=resource_name(run_id, "warm-up", 80), roleArn=role,
                                   definition=json.dumps({"StartAt": "warm-0", "States": states}))["stateMachineArn"]
    try:
        execution = sfn.start_execution(stateMachineArn=arn, name="warm-up")["executionArn"]
        deadline = time.monotonic() + timeout
        while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        with contextlib.suppress(ClientError):
            sfn.delete_state_machine(stateMachineArn=arn)
    return time.monotonic() - started


def prime_subscriptions(sandbox: Sandbox, topic_arns: Sequence[str]) -> float:
    """Publish one warm-up message to each topic, straight to the sandbox; returns seconds.

    The emulator makes a signing key for each SQS subscription on its first delivery (about 0.2 s
    each), so the first real message to a topic with several listeners would arrive late by their sum.
    Call it once every listener has subscribed and before injection. The message names no finding and
    no level, so nothing counts it as a notification or a page.
    """
    started = time.monotonic()
    sns = sandbox.client("sns")
    for topic_arn in dict.fromkeys(topic_arns):
        with contextlib.suppress(ClientError):
            sns.publish(TopicArn=topic_arn, Subject="gdsim warm-up",
                        Message=json.dumps({"gdsim": "warm-up: not a notification, ignore"}))
    return time.monotonic() - started


def _machine_name(run_id: str, path: Path) -> str:
    stem = path.name.removesuffix(".json").removesuffix(".asl").replace("_", "-")
    return resource_name(run_id, stem, 80)


class _Values:
    """Answers ``${name}`` for one deployment, creating what a value needs (table, function) on first use."""

    def __init__(self, *, sandbox: Sandbox, env: Any, scenario: Any, time_scale: float, bridge: Any,
                 extra: Mapping[str, Any]) -> None:
        self.sandbox = sandbox
        self.env = env
        self.scenario = scenario
        self.time_scale = time_scale
        self.bridge = bridge
        self.extra = dict(extra)
        self.ack_table: str | None = None
        self.levels: list[LevelTiming] = []
        self.functions: dict[str, str] = {}

    def __call__(self, name: str) -> Any:
        if name in self.extra:
            return self.extra[name]
        if name.startswith("env."):
            return self._environment(name.removeprefix("env."))
        if name.startswith("escalation."):
            return self._escalation(name.removeprefix("escalation."))
        if name == "ack_table":
            if self.ack_table is None:
                self.ack_table = create_ack_table(self.sandbox, self.env.run_id)
            return self.ack_table
        if name.startswith("lambda:"):
            return self._function(name.removeprefix("lambda:"))
        return self.env.resolve("${" + name + "}")

    def _environment(self, key: str) -> str:
        environment = getattr(getattr(self.scenario, "responder", None), "environment", None) or {}
        if key not in environment:
            raise InputError(f"${{env.{key}}}: the scenario's responder.environment has no {key}",
                             fix=f"add {key} under responder.environment, or use another value")
        return str(self.env.resolve(environment[key]))

    def _escalation(self, key: str) -> Any:
        path = getattr(self.env, "escalation", None)
        if not path:
            raise KeyError(key)
        if key == "topic_arn":
            return path["topic_arn"]
        if key == "levels":
            self.levels = ladder_levels(path["levels"], self.time_scale)
            return [timing.as_value() for timing in self.levels]
        if key.startswith("contact."):
            wanted = key.removeprefix("contact.")
            for level in path["levels"]:
                if str(level["level"]) == wanted:
                    return level["contact"]
            raise InputError(f"${{escalation.{key}}}: the escalation path has no level {wanted}",
                             fix="name a level of the scenario's escalation path")
        raise KeyError(key)

    def _function(self, handler: str) -> str:
        if self.bridge is None:
            raise InputError(f"${{lambda:{handler}}}: Lambda tasks need the function runtime, which this "
                             "deployment was not given", fix="deploy with a LambdaBridge")
        if handler not in self.functions:
            self.functions[handler] = self.bridge.add_function(handler)
        return self.functions[handler]


def deploy_state_machine(path: Path, *, sandbox: Sandbox, env: Any, scenario: Any = None, time_scale: float = 1.0,
                         bridge: Any = None, extra_values: Mapping[str, Any] | None = None,
                         client: Any = None) -> Deployment:
    """Fill in the definition in ``path``, give it a role allowed exactly its tasks' actions, create it.

    ``env`` is the run's ProvisionedEnvironment, ``scenario`` supplies ``${env.NAME}`` values, ``bridge``
    (a LambdaBridge) runs ``${lambda:...}`` functions. Raises InputError naming the file and field of
    a value it cannot fill in, or the interpreter's reason for refusing the definition.
    """
    document = load_definition(path)
    values = _Values(sandbox=sandbox, env=env, scenario=scenario, time_scale=time_scale, bridge=bridge,
                     extra=extra_values or {})
    filled = substitute(document, values, location=str(path))
    run_id = env.run_id
    name = _machine_name(run_id, path)
    role_arn = service_role(sandbox, resource_name(run_id, f"{name.removeprefix(run_id + '-')}-sfn", 64),
                            "states", task_actions(filled), run_id)
    sfn = client or sandbox.client("stepfunctions")
    text = json.dumps(filled, indent=1)
    try:
        arn = sfn.create_state_machine(name=name, definition=text, roleArn=role_arn, type="STANDARD",
                                       tags=[{"key": RUN_TAG, "value": run_id}])["stateMachineArn"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        message = error.response.get("Error", {}).get("Message", str(error))
        if code == "InvalidDefinition":
            raise InputError(f"Step Functions refused the definition: {message[:500]}", location=str(path),
                             fix="check it against the Amazon States Language") from None
        if code != "StateMachineAlreadyExists":
            raise SandboxError(f"creating state machine {name} failed: {error}") from error
        arn = _existing_arn(sfn, name)
        sfn.update_state_machine(stateMachineArn=arn, definition=text, roleArn=role_arn)
    return Deployment(name=name, arn=arn, role_arn=role_arn, source=path, definition=filled,
                      ack_table=values.ack_table, levels=values.levels, functions=dict(values.functions))


def _existing_arn(sfn: Any, name: str) -> str:
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page.get("stateMachines", []):
            if machine["name"] == name:
                return str(machine["stateMachineArn"])
    raise SandboxError(f"state machine {name} exists but cannot be found")


def function_code(note: str) -> bytes:
    """A deployment package for a function record: the code itself runs in the harness."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", note)
    return buffer.getvalue()
