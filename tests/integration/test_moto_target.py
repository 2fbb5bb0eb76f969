"""The moto target: a real server process per sandbox, configured, and never outliving the harness."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from simulator.errors import SandboxError
from simulator.gateway import Gateway, Journal
from simulator.targets.base import Sandbox
from simulator.targets.moto import MOTO_INTERNAL_ACCESS_KEY, MotoForkServer, MotoTarget
from simulator.targets.procutil import process_alive

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 15.0


def wait_until_gone(pid: int) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.05)
    return False


def port_refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.fixture(scope="module")
def started() -> Iterator[tuple[MotoTarget, Sandbox]]:
    target = MotoTarget(account_id="210987654321")
    sandbox = target.start()
    yield target, sandbox
    target.stop()


@pytest.fixture(scope="module")
def target(started: tuple[MotoTarget, Sandbox]) -> MotoTarget:
    return started[0]


@pytest.fixture(scope="module")
def sandbox(started: tuple[MotoTarget, Sandbox]) -> Sandbox:
    return started[1]


def test_the_sandbox_answers_as_its_account(sandbox: Sandbox, target: MotoTarget) -> None:
    assert sandbox.endpoint_url == f"http://127.0.0.1:{target.port}"
    assert sandbox.client("sts").get_caller_identity()["Account"] == "210987654321"
    assert target.running and target.pid is not None and process_alive(target.pid)


def test_aws_managed_policies_are_loaded(sandbox: Sandbox) -> None:
    policy = sandbox.client("iam").get_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["Policy"]
    assert policy["PolicyName"] == "AdministratorAccess"


def test_any_image_id_launches_and_no_default_amis_or_snapshots_are_loaded(sandbox: Sandbox) -> None:
    ec2 = sandbox.client("ec2")
    assert ec2.describe_images(Owners=["amazon"])["Images"] == []
    assert ec2.describe_snapshots(OwnerIds=["amazon"])["Snapshots"] == []
    instance = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1,
                                 InstanceType="t3.micro")["Instances"][0]
    assert instance["ImageId"] == "ami-0123456789abcdef0"


def test_warm_loads_ec2_once(target: MotoTarget) -> None:
    assert target.warm() >= 0.0
    assert target.warm() == 0.0


def state_machine_status(sandbox: Sandbox, definition: dict[str, object], name: str) -> str:
    sfn = sandbox.client("stepfunctions")
    arn = sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                   roleArn=f"arn:aws:iam::{sandbox.account_id}:role/sfn")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    deadline = time.monotonic() + WAIT_SECONDS
    status = "RUNNING"
    while status == "RUNNING" and time.monotonic() < deadline:
        status = sfn.describe_execution(executionArn=execution)["status"]
        time.sleep(0.02)
    return status


def test_step_functions_run_in_the_emulators_interpreter(sandbox: Sandbox) -> None:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"x": 1}, "End": True}}}
    assert state_machine_status(sandbox, definition, "pass-only") == "SUCCEEDED"


def test_step_functions_task_calls_can_be_routed_through_the_gateway(sandbox: Sandbox, target: MotoTarget) -> None:
    topic = sandbox.client("sns").create_topic(Name="sfn-pages")["TopicArn"]
    definition = {"StartAt": "Page", "States": {"Page": {
        "Type": "Task", "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {"TopicArn": topic, "Message": "page"}, "End": True}}}
    with Gateway(sandbox.endpoint_url or "", Journal(), region=sandbox.region,
                 account_id=sandbox.account_id) as gateway:
        target.route_internal_calls(gateway.url)
        try:
            assert state_machine_status(sandbox, definition, "pager") == "SUCCEEDED"
        finally:
            target.route_internal_calls(sandbox.endpoint_url or "")
        published = [entry for entry in gateway.journal.entries() if entry.operation == "Publish"]
    assert [(entry.service, entry.resource_ids, entry.caller) for entry in published] == [
        ("sns", (topic,), MOTO_INTERNAL_ACCESS_KEY)]


def test_interpreter_off_leaves_executions_running() -> None:
    with MotoTarget(preload=(), execute_state_machines=False) as sandbox:
        definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
        sfn = sandbox.client("stepfunctions")
        arn = sfn.create_state_machine(name="idle", definition=json.dumps(definition),
                                       roleArn=f"arn:aws:iam::{sandbox.account_id}:role/sfn")["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
        time.sleep(0.2)
        assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"


def test_stop_kills_the_process_frees_the_port_and_can_be_repeated() -> None:
    target = MotoTarget(preload=())
    sandbox = target.start()
    pid, port = target.pid, target.port
    assert pid is not None and port is not None
    assert sandbox.client("sqs").list_queues().get("QueueUrls", []) == []
    target.stop()
    target.stop()
    assert not process_alive(pid)
    assert port_refuses(port)
    assert not target.running and target.pid is None
    with pytest.raises(SandboxError, match="not started"):
        _ = target.endpoint_url


def test_a_target_starts_only_once_at_a_time() -> None:
    with MotoTarget(preload=()) as _:
        pass
    target = MotoTarget(preload=())
    target.start()
    try:
        with pytest.raises(SandboxError, match="already started"):
            target.start()
    finally:
        target.stop()


def test_a_server_that_cannot_start_is_reported_with_its_stderr(tmp_path: Path) -> None:
    broken = tmp_path / "moto"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('moto is broken on purpose')\n")
    target = MotoTarget(preload=(), extra_env={"PYTHONPATH": str(tmp_path)})
    with pytest.raises(SandboxError) as raised:
        target.start()
    assert "exited with code" in str(raised.value)
    assert "broken on purpose" in str(raised.value)
    assert target.pid is None


def test_a_server_that_does_not_answer_in_time_is_stopped() -> None:
    target = MotoTarget(preload=(), start_timeout=0.001)
    with pytest.raises(SandboxError, match="no answer within"):
        target.start()
    assert target.pid is None


def run_harness(body: str) -> tuple[subprocess.Popen[str], int]:
    """A harness process that starts a sandbox, prints its server's pid, then does ``body``."""
    script = textwrap.dedent("""
        import os, signal, sys, time
        from simulator.targets.moto import MotoTarget
        target = MotoTarget(preload=())
        target.start()
        print(target.pid, flush=True)
    """) + textwrap.dedent(body)
    harness = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert harness.stdout is not None
    return harness, int(harness.stdout.readline())


def test_the_server_dies_when_the_harness_is_killed() -> None:
    harness, server_pid = run_harness("os.kill(os.getpid(), signal.SIGKILL)\n")
    harness.wait(timeout=WAIT_SECONDS)
    assert harness.returncode == -9
    assert wait_until_gone(server_pid)


def test_the_server_is_stopped_when_the_harness_exits_without_stopping_it() -> None:
    harness, server_pid = run_harness("sys.exit(0)\n")
    harness.wait(timeout=WAIT_SECONDS)
    assert harness.returncode == 0
    assert wait_until_gone(server_pid)


@pytest.fixture(scope="module")
def fork_server() -> Iterator[MotoForkServer]:
    with MotoForkServer() as server:
        yield server


def test_forked_sandboxes_are_warm_and_isolated(fork_server: MotoForkServer) -> None:
    first, second = fork_server.target(), fork_server.target()
    with first as one, second as two:
        assert first.pid != second.pid and first.port != second.port
        launched = one.client("ec2").run_instances(ImageId="ami-0123456789abcdef0", MinCount=1,
                                                   MaxCount=1)["Instances"][0]["InstanceId"]
        other = two.client("ec2").run_instances(ImageId="ami-0123456789abcdef0", MinCount=1,
                                                MaxCount=1)["Instances"][0]["InstanceId"]
        assert launched != other  # each fork draws its own ids
        assert two.client("ec2").describe_instances(InstanceIds=[other])["Reservations"]
        with pytest.raises(ClientError):
            two.client("ec2").describe_instances(InstanceIds=[launched])
        # The scratch account used to warm the fork server leaves nothing in the sandbox account.
        assert two.client("iam").list_users()["Users"] == []
        assert one.client("iam").get_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        first_pid = first.pid
    assert first_pid is not None and wait_until_gone(first_pid)
    assert fork_server.running


def test_forked_sandboxes_route_internal_calls_too(fork_server: MotoForkServer) -> None:
    target = fork_server.target()
    with target as sandbox:
        topic = sandbox.client("sns").create_topic(Name="fork-pages")["TopicArn"]
        definition = {"StartAt": "Page", "States": {"Page": {
            "Type": "Task", "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": topic, "Message": "page"}, "End": True}}}
        with Gateway(sandbox.endpoint_url or "", Journal()) as gateway:
            target.route_internal_calls(gateway.url)
            assert state_machine_status(sandbox, definition, "fork-pager") == "SUCCEEDED"
            assert [entry.operation for entry in gateway.journal.entries()] == ["Publish"]


def test_fork_server_and_its_sandboxes_die_with_the_harness() -> None:
    script = textwrap.dedent("""
        import os, signal
        from simulator.targets.moto import MotoForkServer
        server = MotoForkServer(preload=())
        server.start()
        target = server.target()
        target.start()
        print(server.pid, target.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    harness = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert harness.stdout is not None
    fork_pid, sandbox_pid = (int(value) for value in harness.stdout.readline().split())
    harness.wait(timeout=WAIT_SECONDS)
    assert wait_until_gone(fork_pid)
    assert wait_until_gone(sandbox_pid)
