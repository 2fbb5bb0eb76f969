"""Scenario syntax for the on-call the harness plays, escalation_not_paged steps and state machine responders."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from simulator import paths
from simulator.oncall import OnCallPlayer, start_oncall
from simulator.scenario import ScenarioError, load_scenario

LADDER = paths.SCENARIOS_DIR / "escalation-ladder.yaml"


def ladder_data() -> dict[str, Any]:
    return dict(yaml.safe_load(LADDER.read_text()))


def load(data: dict[str, Any], tmp_path: Path) -> Any:
    path = tmp_path / "x.yaml"
    path.write_text(yaml.safe_dump({**data, "id": "x"}, sort_keys=False))
    return load_scenario(path)


def problems(data: dict[str, Any], tmp_path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        load(data, tmp_path)
    return "\n".join(caught.value.lines)


def test_the_shipped_ladder_scenario_acknowledges_at_level_2() -> None:
    scenario = load_scenario("escalation-ladder")
    assert scenario.oncall is not None
    assert scenario.oncall.ack_level == 2 and scenario.oncall.after_seconds == 0.0
    assert scenario.responder.handler == "stepfunctions:responders/stepfunctions/escalation_ladder.asl.json"
    assert [step.expect.kind for step in scenario.steps] == [
        "escalation_paged", "escalation_paged", "escalation_not_paged"]


@pytest.mark.parametrize(("written", "level", "after"), [
    ({"acknowledge_at_level": 1}, 1, 0.0),
    ({"acknowledge_at_level": 3, "after": "2m"}, 3, 120.0),
    ({"acknowledge_at_level": "never"}, None, 0.0),
])
def test_oncall_forms(tmp_path: Path, written: dict[str, Any], level: int | None, after: float) -> None:
    scenario = load({**ladder_data(), "oncall": written}, tmp_path)
    assert scenario.oncall.ack_level == level
    assert scenario.oncall.after_seconds == after


def test_scenarios_without_oncall_have_none(tmp_path: Path) -> None:
    data = ladder_data()
    del data["oncall"]
    scenario = load(data, tmp_path)
    assert scenario.oncall is None
    assert start_oncall(scenario, sandbox=None, env=None, time_scale=60.0) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("written", "expected"), [
    ({"acknowledge_at_level": 4}, "level 4 is not in escalation.levels"),
    ({"acknowledge_at_level": 0}, "acknowledge_at_level"),
    ({"acknowledge_at_level": "sometimes"}, "acknowledge_at_level"),
    ({"acknowledge_at_level": 1, "after": "soon"}, "after"),
    ({"acknowledge_at_level": 1, "who": "me"}, "who"),
])
def test_bad_oncall_is_reported(tmp_path: Path, written: dict[str, Any], expected: str) -> None:
    assert expected in problems({**ladder_data(), "oncall": written}, tmp_path)


def test_escalation_not_paged_names_a_level_of_the_path(tmp_path: Path) -> None:
    data = ladder_data()
    data["steps"] = [*data["steps"][:2], {"id": "quiet", "expect": {"kind": "escalation_not_paged", "level": 9},
                                          "within": "30m"}]
    assert "escalation level 9 is not in escalation.levels" in problems(data, tmp_path)


@pytest.mark.parametrize("handler", [
    "stepfunctions:responders/stepfunctions/crypto_flow.asl.json",
    "stepfunctions:/abs/path/flow.json",
])
def test_state_machine_responders_are_accepted(tmp_path: Path, handler: str) -> None:
    data = ladder_data()
    assert load({**data, "responder": {**data["responder"], "handler": handler}}, tmp_path).responder.handler == handler


@pytest.mark.parametrize("handler", ["stepfunctions:flow.yaml", "stepfunctions:", "stepfunctions:a:b.json"])
def test_malformed_state_machine_responders_are_refused(tmp_path: Path, handler: str) -> None:
    data = ladder_data()
    assert "handler" in problems({**data, "responder": {**data["responder"], "handler": handler}}, tmp_path)


def test_the_player_refuses_a_level_below_one() -> None:
    env = SimpleNamespace(run_id="gdsim-x", escalation={"topic_arn": "arn:aws:sns:us-east-1:1:pager", "levels": []})
    with pytest.raises(ValueError, match="1 or more"):
        OnCallPlayer(sandbox=None, env=env, ack_at_level=0)  # type: ignore[arg-type]


def test_the_player_needs_an_escalation_path() -> None:
    with pytest.raises(ValueError, match="no escalation path"):
        OnCallPlayer(sandbox=None, env=SimpleNamespace(run_id="gdsim-x", escalation=None),  # type: ignore[arg-type]
                     ack_at_level=1)
