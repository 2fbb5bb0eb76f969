"""The escalation ladder, a real state machine in the emulator's interpreter, against the on-call the harness
plays: each level is paged at its runbook time (never before, within its SLA), and an acknowledgement stops
the ladder so nobody above the person who took the page is disturbed."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from stepfunctions_driver import scenario_run

from simulator.delivery.runtime import FunctionRuntime
from simulator.oncall import OnCallPlayer
from simulator.provision import provision
from simulator.scenario import load_scenario
from simulator.scenario.model import OnCallSpec, Scenario, Step
from simulator.session import create_responder_identity
from simulator.stepfunctions.deploy import deploy_state_machine
from simulator.stepfunctions.run import wait_for_execution
from simulator.targets.base import Sandbox
from simulator.targets.moto import MotoTarget

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LADDER = ROOT / "responders" / "stepfunctions" / "escalation_ladder.asl.json"
# 10 runbook minutes pass in 4 wall seconds: the ladder waits whole seconds, so these divide exactly.
TIME_SCALE = 150.0
LEVEL_AFTER = {1: 0.0, 2: 600.0, 3: 1200.0}


def step(step_id: str, kind: str, level: int, within: str) -> Step:
    return Step.model_validate({"id": step_id, "expect": {"kind": kind, "level": level}, "within": within})


def variant(ack: int | str, steps: list[Step]) -> Scenario:
    scenario = load_scenario("escalation-ladder")
    return scenario.model_copy(update={"oncall": OnCallSpec(acknowledge_at_level=ack), "steps": steps})  # type: ignore[arg-type]


def verdicts(run: Any) -> dict[str, str]:
    return {step_id: step.verdict for step_id, step in run.steps.items()}


def pager_arn(run: Any) -> str:
    return str(run.env.resources["pager"]["arn"])


def test_never_acknowledged_reaches_the_last_level_on_time(moto: tuple[MotoTarget, Sandbox]) -> None:
    scenario = variant("never", [step("page-l1", "escalation_paged", 1, "5m"),
                                 step("page-l2", "escalation_paged", 2, "13m"),
                                 step("page-l3", "escalation_paged", 3, "23m")])
    with scenario_run(*moto, scenario, time_scale=TIME_SCALE) as run:
        assert verdicts(run) == {"page-l1": "met", "page-l2": "met", "page-l3": "met"}, run.steps
        for level in (2, 3):
            # On time means not early either: a level is paged only once its runbook time has come.
            observed = run.steps[f"page-l{level}"].observed_seconds
            assert observed is not None and observed >= LEVEL_AFTER[level]
        assert run.oncall is not None and run.oncall.levels_paged(run.finding["id"]) == [1, 2, 3]
        assert run.oncall.acknowledgements == []
        [execution] = run.responder.invocations
        assert execution.outcome == "ok"
        assert execution.result == {"finding_id": run.finding["id"], "status": "unacknowledged", "last_level_paged": 3}
        pages = [json.loads(entry.params["Message"]) for entry in run.publishes(pager_arn(run))]
        assert [(page["level"], page["contact"]) for page in pages] == [
            (1, "ir-oncall-primary"), (2, "ir-lead"), (3, "head-of-security")]
        assert all(page["finding_id"] == run.finding["id"] and page["reason"] for page in pages)
        assert all(item.held for item in run.invariants.values()), run.invariants
        assert run.blast_radius.held, run.blast_radius.detail


def test_acknowledged_at_level_1_pages_nobody_else(moto: tuple[MotoTarget, Sandbox]) -> None:
    scenario = variant(1, [step("page-l1", "escalation_paged", 1, "5m"),
                           step("quiet-l2", "escalation_not_paged", 2, "13m"),
                           step("quiet-l3", "escalation_not_paged", 3, "23m")])
    with scenario_run(*moto, scenario, time_scale=TIME_SCALE) as run:
        assert verdicts(run) == {"page-l1": "met", "quiet-l2": "met", "quiet-l3": "met"}, run.steps
        # The ladder decided at level 2's time, when it read the acknowledgement.
        decided = run.steps["quiet-l2"].observed_seconds
        assert decided is not None and decided >= LEVEL_AFTER[2]
        assert run.oncall is not None and [ack.level for ack in run.oncall.acknowledgements] == [1]
        assert run.oncall.levels_paged(run.finding["id"]) == [1]
        assert len(run.publishes(pager_arn(run))) == 1
        [execution] = run.responder.invocations
        assert execution.result["status"] == "acknowledged"
        assert execution.result["not_paged_from_level"] == 2
        assert all(item.held for item in run.invariants.values()), run.invariants


def test_acknowledged_at_level_2_stops_there(moto: tuple[MotoTarget, Sandbox]) -> None:
    scenario = load_scenario("escalation-ladder")  # as shipped: the IR lead answers the second page
    with scenario_run(*moto, scenario, time_scale=TIME_SCALE) as run:
        assert set(verdicts(run).values()) == {"met"}, run.steps
        assert run.oncall is not None and run.oncall.levels_paged(run.finding["id"]) == [1, 2]
        assert [ack.level for ack in run.oncall.acknowledgements] == [2]
        assert [json.loads(entry.params["Message"])["level"] for entry in run.publishes(pager_arn(run))] == [1, 2]
        decided = run.steps["spare-head-of-security"].observed_seconds
        assert decided is not None and decided >= LEVEL_AFTER[3]
        # The same finding delivered again, or updated, starts no second escalation.
        again = run.responder.submit(run.envelope)
        assert run.responder.wait_for_executions(2, timeout=20)
        assert again.status == "SUCCEEDED" and again.output == {"finding_id": run.finding["id"], "status": "duplicate"}
        assert len(run.publishes(pager_arn(run))) == 2


def test_a_ladder_that_ignores_acknowledgements_is_caught(moto: tuple[MotoTarget, Sandbox], tmp_path: Path) -> None:
    broken = json.loads(LADDER.read_text())
    broken["States"]["Acknowledged?"] = {"Type": "Pass", "Next": "Compose the page"}
    path = tmp_path / "ladder_ignores_acks.asl.json"
    path.write_text(json.dumps(broken))
    # Level 1 is paged at once; the SLA leaves room (before level 2 is due at 10m) for a loaded machine.
    scenario = variant(1, [step("page-l1", "escalation_paged", 1, "9m"),
                           step("quiet-l2", "escalation_not_paged", 2, "13m")])
    with scenario_run(*moto, scenario, time_scale=TIME_SCALE, responder=f"stepfunctions:{path}") as run:
        assert verdicts(run) == {"page-l1": "met", "quiet-l2": "missing"}, run.steps
        assert run.steps["quiet-l2"].detail == "level 2 was paged"
        assert run.oncall is not None and [ack.level for ack in run.oncall.acknowledgements] == [1]


def test_a_responder_that_cannot_finish_starts_the_ladder(moto: tuple[MotoTarget, Sandbox]) -> None:
    _, sandbox = moto
    run_id = f"gdsim-t{uuid.uuid4().hex[:8]}"
    env = provision(load_scenario("escalation-ladder"), sandbox, run_id)
    ladder = deploy_state_machine(LADDER, sandbox=sandbox, env=env, time_scale=TIME_SCALE)
    sfn = sandbox.client("stepfunctions")
    runtime = FunctionRuntime("responders.escalation:handler", env={"ESCALATION_LADDER_ARN": ladder.arn},
                              endpoint_url=sandbox.endpoint_url, credentials=create_responder_identity(sandbox, run_id),
                              region=sandbox.region, sandbox=sandbox, timeout_seconds=20)
    request = {"finding_id": "5eb1f1c1a1f1d1e1b1a1c1d1e1f1a1b1", "reason": "snapshot failed: volume busy"}
    with runtime, OnCallPlayer(sandbox, env, ack_at_level=1) as oncall:
        first = runtime.invoke(request)
        assert first.outcome == "ok" and first.result["status"] == "escalating", first.error
        page = oncall.wait_for_level(1, timeout=20)
        assert page is not None and page.finding_id == request["finding_id"] and page.contact == "ir-oncall-primary"
        # Starting it again for the same finding is harmless: the ladder finds its own claim.
        second = runtime.invoke(request)
        described = wait_for_execution(sfn, second.result["execution_arn"], timeout=20)
        assert json.loads(described["output"]) == {"finding_id": request["finding_id"], "status": "duplicate"}
        assert runtime.invoke({"detail": "nothing"}).result["status"] == "rejected"
        sfn.stop_execution(executionArn=first.result["execution_arn"])
    assert oncall.levels_paged(request["finding_id"]) == [1]
