"""State machine definitions as files: values filled in, the actions their tasks need, ladder timings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import paths
from simulator.errors import InputError, UsageError
from simulator.stepfunctions.definition import load_definition, placeholders, substitute, task_action, task_actions
from simulator.stepfunctions.deploy import ladder_levels, services_of
from simulator.stepfunctions.lambda_bridge import function_name_of
from simulator.stepfunctions.names import ack_table_name
from simulator.stepfunctions.spec import check_state_machine_responder, is_state_machine_responder, state_machine_path

FLOWS = paths.PROJECT_ROOT / "responders" / "stepfunctions"
# What a shipped definition may ask for: the deployment vocabulary (see simulator.stepfunctions.deploy).
KNOWN = ("env.", "escalation.topic_arn", "escalation.levels", "escalation.contact.", "ack_table", "account_id",
         "region")


def test_a_whole_placeholder_takes_the_value_s_type_and_an_embedded_one_becomes_text() -> None:
    document = {"Levels": "${levels}", "Wait": {"Seconds": "${wait}"}, "Name": "ladder-${run}",
                "List": ["${run}", 3], "Plain": "no placeholder"}
    values = {"levels": [{"level": 1}], "wait": 4, "run": "r1"}
    assert substitute(document, values.__getitem__) == {
        "Levels": [{"level": 1}], "Wait": {"Seconds": 4}, "Name": "ladder-r1", "List": ["r1", 3],
        "Plain": "no placeholder"}
    assert substitute({"Text": "wait ${wait} s for ${levels}"}, values.__getitem__) == {
        "Text": 'wait 4 s for [{"level":1}]'}


def test_an_unknown_placeholder_names_the_file_and_field() -> None:
    with pytest.raises(InputError) as caught:
        substitute({"States": {"Page": {"Parameters": {"TopicArn": "${nowhere}"}}}}, {}.__getitem__,
                   location="flow.asl.json")
    assert caught.value.location == "flow.asl.json"
    assert caught.value.field == "States.Page.Parameters.TopicArn"
    assert "${nowhere} has no value" in caught.value.message


def test_a_resolver_s_own_error_keeps_its_message_and_gains_the_field() -> None:
    def resolve(name: str) -> Any:
        raise InputError(f"cannot resolve ${{{name}}}", fix="name a resource")

    with pytest.raises(InputError) as caught:
        substitute({"A": ["x", "${miner.nothing}"]}, resolve, location="f.json")
    assert (caught.value.field, caught.value.message, caught.value.fix) == (
        "A[1]", "cannot resolve ${miner.nothing}", "name a resource")


def test_placeholders_in_order_of_first_use() -> None:
    assert placeholders({"b": "${one} ${two}", "a": ["${one}", "${three}"]}) == ["one", "two", "three"]


@pytest.mark.parametrize(("resource", "action"), [
    ("arn:aws:states:::aws-sdk:ec2:describeInstances", "ec2:DescribeInstances"),
    ("arn:aws:states:::aws-sdk:sfn:startExecution", "states:StartExecution"),
    ("arn:aws:states:::aws-sdk:iam:putRolePolicy.waitForTaskToken", "iam:PutRolePolicy"),
    ("arn:aws:states:::sns:publish", "sns:Publish"),
    ("arn:aws:states:::dynamodb:getItem", "dynamodb:GetItem"),
    ("arn:aws:states:::lambda:invoke", "lambda:InvokeFunction"),
    ("arn:aws:states:::states:startExecution.sync:2", "states:StartExecution"),
    ("arn:aws:lambda:us-east-1:123456789012:function:f", "lambda:InvokeFunction"),
    ("arn:aws:states:us-east-1:123456789012:activity:a", None),
])
def test_task_actions(resource: str, action: str | None) -> None:
    assert task_action(resource) == action


def test_actions_come_from_nested_states_too() -> None:
    document = {"StartAt": "M", "States": {
        "M": {"Type": "Map", "ItemProcessor": {"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:ec2:createSnapshot", "End": True}}},
              "Next": "P"},
        "P": {"Type": "Parallel", "Branches": [{"StartAt": "U", "States": {
            "U": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "End": True}}}], "End": True}}}
    assert task_actions(document) == ["ec2:CreateSnapshot", "sns:Publish"]
    assert services_of(task_actions(document)) == ["ec2", "sns"]


@pytest.mark.parametrize("name", ["escalation_ladder.asl.json", "crypto_flow.asl.json"])
def test_the_shipped_definitions_ask_only_for_known_values(name: str) -> None:
    document = load_definition(FLOWS / name)
    assert placeholders(document)
    assert all(value.startswith(KNOWN) for value in placeholders(document)), placeholders(document)


def test_the_crypto_flow_needs_no_more_than_its_runbook() -> None:
    actions = task_actions(load_definition(FLOWS / "crypto_flow.asl.json"))
    assert not [action for action in actions if action.startswith("ec2:Terminate")]
    assert {"ec2:ModifyNetworkInterfaceAttribute", "ec2:CreateSnapshot", "ec2:StopInstances",
            "ec2:DisassociateIamInstanceProfile", "iam:PutRolePolicy", "sns:Publish"} <= set(actions)
    assert not [action for action in actions if action.startswith("lambda:")]  # SDK integrations only


def test_the_ladder_reads_acknowledgements_and_pages() -> None:
    assert task_actions(load_definition(FLOWS / "escalation_ladder.asl.json")) == [
        "dynamodb:GetItem", "dynamodb:PutItem", "sns:Publish"]


@pytest.mark.parametrize(("text", "problem"), [
    ("{", "not JSON"), ('{"States": {}}', "needs StartAt and States"), ("[1]", "needs StartAt and States")])
def test_bad_definition_files(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.asl.json"
    path.write_text(text)
    with pytest.raises(InputError, match=problem):
        load_definition(path)
    with pytest.raises(InputError, match="cannot read"):
        load_definition(tmp_path / "missing.asl.json")


# ---------------------------------------------------------------- ladder timings

LEVELS = [{"level": 1, "contact": "a", "after_seconds": 0.0}, {"level": 2, "contact": "b", "after_seconds": 900.0},
          {"level": 3, "contact": "c", "after_seconds": 3600.0}]


def test_levels_in_whole_wall_seconds_after_the_previous_one() -> None:
    timings = ladder_levels(LEVELS, 60.0)
    assert [(t.level, t.wait_seconds, t.paged_after_seconds) for t in timings] == [
        (1, 0, 0), (2, 15, 900), (3, 45, 3600)]
    assert timings[1].as_value() == {"level": 2, "contact": "b", "after_seconds": 900.0, "wait_seconds": 15}


def test_a_time_scale_too_large_for_whole_seconds_is_refused() -> None:
    with pytest.raises(UsageError, match="whole seconds"):
        ladder_levels(LEVELS, 1000.0)  # 15 minutes would become 16m40s
    with pytest.raises(UsageError, match="positive"):
        ladder_levels(LEVELS, 0.0)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(afters=st.lists(st.integers(min_value=60, max_value=4 * 3600), min_size=1, max_size=5),
       scale=st.sampled_from([1.0, 7.0, 30.0, 60.0, 120.0]))
def test_rounded_levels_stay_in_order_and_close_to_the_runbook(afters: list[int], scale: float) -> None:
    path = [{"level": i + 1, "contact": "x", "after_seconds": float(after)} for i, after in enumerate(sorted(afters))]
    try:
        timings = ladder_levels(path, scale)
    except UsageError:
        assert any(abs(round(after / scale) * scale - after) > 0.05 * after for after in afters)
        return
    assert all(t.wait_seconds >= 0 for t in timings)
    assert sum(t.wait_seconds for t in timings) * scale == timings[-1].paged_after_seconds
    for timing in timings:
        assert abs(timing.paged_after_seconds - timing.after_seconds) <= 0.05 * timing.after_seconds


# ---------------------------------------------------------------- names and specs


def test_state_machine_responders_are_found_in_the_project(tmp_path: Path) -> None:
    assert is_state_machine_responder("stepfunctions:responders/stepfunctions/crypto_flow.asl.json")
    assert not is_state_machine_responder("responders.crypto:handler") and not is_state_machine_responder(None)
    found = state_machine_path("stepfunctions:responders/stepfunctions/crypto_flow.asl.json", base_dir=tmp_path)
    assert found == (FLOWS / "crypto_flow.asl.json").resolve()
    with pytest.raises(InputError, match="does not exist"):
        state_machine_path("stepfunctions:nowhere.asl.json", base_dir=tmp_path)
    with pytest.raises(InputError, match="names no definition"):
        state_machine_path("stepfunctions:")


@pytest.mark.parametrize(("reference", "name"), [
    ("f", "f"), ("f:$LATEST", "f"), ("arn:aws:lambda:us-east-1:123456789012:function:f", "f"),
    ("arn:aws:lambda:us-east-1:123456789012:function:f:7", "f"), ("123456789012:function:f:live", "f"),
    ("arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af", "f")])
def test_function_names_in_every_form(reference: str, name: str) -> None:
    assert function_name_of(reference) == name


def test_the_ack_table_is_named_after_the_run() -> None:
    assert ack_table_name("gdsim-20260101T000000-ab12") == "gdsim-20260101T000000-ab12-escalation-acks"
    assert ack_table_name("run with spaces!") == "run-with-spaces--escalation-acks"


def test_a_bad_state_machine_responder_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    broken = tmp_path / "broken.asl.json"
    broken.write_text('{"StartAt": "A"')
    with pytest.raises(InputError, match="not JSON"):
        check_state_machine_responder(f"stepfunctions:{broken}")
    assert check_state_machine_responder("stepfunctions:responders/stepfunctions/escalation_ladder.asl.json").is_file()
