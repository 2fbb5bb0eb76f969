"""Lambda functions whose code runs in the harness's function runtime: a state machine's Lambda tasks and
direct Invoke calls reach the gateway, which runs the real handler and answers as Lambda does."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from stepfunctions_driver import scenario_run

from simulator.gateway import Gateway, Journal
from simulator.scenario import load_scenario
from simulator.session import create_responder_identity
from simulator.stepfunctions.lambda_bridge import LambdaBridge, function_name_of
from simulator.stepfunctions.run import wait_for_execution
from simulator.targets.base import Sandbox
from simulator.targets.moto import MOTO_INTERNAL_ACCESS_KEY, MotoTarget

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "responders"


@pytest.fixture(scope="module")
def bridge(moto: tuple[MotoTarget, Sandbox]) -> Iterator[tuple[LambdaBridge, Gateway, dict[str, str]]]:
    target, sandbox = moto
    run_id = f"gdsim-t{uuid.uuid4().hex[:8]}"
    gateway = Gateway(sandbox.endpoint_url or "", Journal(), region=sandbox.region, account_id=sandbox.account_id)
    gateway.start()
    target.route_internal_calls(gateway.url)
    credentials = create_responder_identity(sandbox, run_id)
    functions = LambdaBridge(gateway, sandbox, run_id=run_id, credentials=credentials, env={"GREETING": "hello"},
                             timeout_seconds=20)
    try:
        arns = {name: functions.add_function(f"{FIXTURES / name}.py:handler") for name in ("does_nothing", "raises")}
        yield functions, gateway, arns
    finally:
        functions.stop()
        gateway.stop()


def lambda_client(sandbox: Sandbox, gateway: Gateway) -> Any:
    return sandbox.client("lambda", endpoint_url=gateway.url)


def test_invoke_runs_the_handler_and_answers_as_lambda(moto: tuple[MotoTarget, Sandbox], bridge: Any) -> None:
    _, gateway, arns = bridge
    client = lambda_client(moto[1], gateway)
    event = {"detail": {"id": "abc123"}}
    response = client.invoke(FunctionName=arns["does_nothing"], Payload=json.dumps(event).encode(), LogType="Tail")
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"status": "ignored", "finding_id": "abc123"}
    assert "received finding abc123" in base64.b64decode(response["LogResult"]).decode()
    # The record is the emulator's: the function can be read back like any other.
    configuration = moto[1].client("lambda").get_function(FunctionName=arns["does_nothing"])["Configuration"]
    assert configuration["Handler"] == "does_nothing.handler"
    assert configuration["Environment"]["Variables"] == {"GREETING": "hello"}


def test_a_raising_handler_is_a_function_error(moto: tuple[MotoTarget, Sandbox], bridge: Any) -> None:
    _, gateway, arns = bridge
    response = lambda_client(moto[1], gateway).invoke(FunctionName=function_name_of(arns["raises"]), Payload=b"{}")
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "ResponderBroken" and "always fails" in error["errorMessage"]


def test_event_and_dry_run_invocations(moto: tuple[MotoTarget, Sandbox], bridge: Any) -> None:
    functions, gateway, arns = bridge
    client = lambda_client(moto[1], gateway)
    runtime = functions.functions[function_name_of(arns["does_nothing"])]
    before = len(runtime.invocations)
    assert client.invoke(FunctionName=arns["does_nothing"], InvocationType="DryRun")["StatusCode"] == 204
    assert client.invoke(FunctionName=arns["does_nothing"], InvocationType="Event",
                         Payload=b'{"detail": {"id": "async"}}')["StatusCode"] == 202
    assert runtime.wait_for_invocations(before + 1, timeout=20)
    assert runtime.invocations[before].finding_id == "async"
    assert len(runtime.invocations) == before + 1  # the dry run ran nothing


def test_unknown_functions_are_left_to_the_emulator(moto: tuple[MotoTarget, Sandbox], bridge: Any) -> None:
    _, gateway, _ = bridge
    with pytest.raises(ClientError) as caught:
        lambda_client(moto[1], gateway).invoke(FunctionName="no-such-function", Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_state_machine_task_runs_the_function(moto: tuple[MotoTarget, Sandbox], bridge: Any) -> None:
    _, gateway, arns = bridge
    sandbox = moto[1]
    sfn = sandbox.client("stepfunctions")
    definition = {"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": arns["does_nothing"], "Payload.$": "$"},
                "ResultSelector": {"answer.$": "$.Payload"}, "Next": "Fail"},
        "Fail": {"Type": "Task", "Resource": arns["raises"], "End": True}}}
    machine = sfn.create_state_machine(name=f"bridge-{uuid.uuid4().hex[:6]}", definition=json.dumps(definition),
                                       roleArn=f"arn:aws:iam::{sandbox.account_id}:role/any")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, name="one",
                                    input=json.dumps({"detail": {"id": "from-sfn"}}))["executionArn"]
    described = wait_for_execution(sfn, execution, timeout=30)
    # The second task names the failing function by ARN: its errorType becomes the task's error.
    assert described["status"] == "FAILED" and described["error"] == "ResponderBroken"
    history = sfn.get_execution_history(executionArn=execution)["events"]
    [asked] = [event for event in history if event["type"] == "TaskStateExited"]
    assert json.loads(asked["stateExitedEventDetails"]["output"])["answer"] == {
        "status": "ignored", "finding_id": "from-sfn"}
    invokes = [entry for entry in gateway.journal.entries() if entry.operation == "Invoke"
               and entry.caller == MOTO_INTERNAL_ACCESS_KEY]
    assert [function_name_of(entry.params["FunctionName"]) for entry in invokes] == [
        function_name_of(arns["does_nothing"]), function_name_of(arns["raises"])]


def test_a_flow_delegating_to_the_lambda_responder_meets_the_crypto_steps(
        moto: tuple[MotoTarget, Sandbox], tmp_path: Path) -> None:
    flow = {"Comment": "Hands the finding to the Lambda reference responder.", "StartAt": "Respond", "States": {
        "Respond": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "${lambda:responders.crypto:handler}", "Payload.$": "$"},
                    "ResultSelector": {"summary.$": "$.Payload"}, "End": True}}}
    path = tmp_path / "delegate.asl.json"
    path.write_text(json.dumps(flow))
    with scenario_run(*moto, load_scenario("crypto"), time_scale=60.0, responder=f"stepfunctions:{path}") as run:
        assert {step.verdict for step in run.steps.values()} == {"met"}, run.steps
        assert run.blast_radius.held, run.blast_radius.detail
        [execution] = run.responder.invocations
        assert execution.outcome == "ok" and execution.result["summary"]["status"] == "remediated"
        [function_call] = run.responder.function_invocations
        assert function_call.outcome == "ok" and function_call.finding_id == run.finding["id"]
        # The handler acted with the responder's own key; the interpreter only invoked it.
        changes = [entry for entry in run.journal.entries() if entry.mutating and entry.service != "moto"]
        by_caller = {entry.caller for entry in changes if entry.operation != "Invoke"}
        assert MOTO_INTERNAL_ACCESS_KEY not in by_caller and len(by_caller) == 1
