"""report.json against DESIGN.md's contract, checked with the report's JSON Schema."""

from __future__ import annotations

import copy
import json
import math
import time
from pathlib import Path
from typing import Any

import pytest

from simulator.delivery.runtime import Invocation
from simulator.gateway.journal import Journal, JournalEntry
from simulator.reports import RunReport, ScenarioResult, report_to_dict, validate_report_data, write_json
from simulator.scenario import load_scenario
from simulator.verdicts import Invariant, StepVerdict

FINDING = {"id": "a1b2c3d4e5f60718293a4b5c6d7e8f90", "type": "CryptoCurrency:EC2/BitcoinTool.B!DNS"}


def invocation(cold: bool, outcome: str = "ok", attempt: int = 1) -> Invocation:
    return Invocation(request_id="r", event_id="e", finding_id=FINDING["id"], attempt=attempt, cold=cold,
                      started_mono=0.0, ended_mono=0.2, outcome=outcome, error=None, logs="")


def journal() -> Journal:
    recorded = Journal()
    for operation, service, status, mutating in [("DescribeInstances", "ec2", 200, False),
                                                 ("StopInstances", "ec2", 200, True),
                                                 ("Publish", "sns", 500, True)]:
        recorded.append(JournalEntry(seq=0, mono=time.monotonic(), mono_start=0.0, wall=0.0, service=service,
                                     operation=operation, region="us-east-1", caller="AKIA", resource_ids=(),
                                     params={}, status=status, error_code=None if status < 400 else "Internal",
                                     fault=None, mutating=mutating))
    return recorded


def scenario_result(verdicts: list[str], *, held: bool = True) -> ScenarioResult:
    scenario = load_scenario("crypto")
    steps = []
    for step, verdict in zip(scenario.steps, verdicts, strict=False):
        wall = None if verdict == "missing" else 0.5
        steps.append(StepVerdict(step.id, step.within_seconds, None if wall is None else wall * 60, wall, verdict,
                                 title=step.title, kind=step.expect.kind, sla_text=step.within_text,
                                 source=None if wall is None else "journal"))
    invariants = [Invariant("blast_radius", held, "ok" if held else "ec2:StopInstances on i-n (bystander 'n')"),
                  Invariant("no_unhandled_errors", True, "1 invocation(s), none failed")]
    return ScenarioResult.build(scenario=scenario, findings=[FINDING], steps=steps, invariants=invariants,
                                invocations=[invocation(True), invocation(False, "error", 2)], journal=journal(),
                                seed=7, time_scale=60.0, target="moto", responder="responders.crypto:handler",
                                observed_for_wall_seconds=90.0)


def report(*results: ScenarioResult) -> RunReport:
    return RunReport(run_id="gdsim-20240501T101500-ab12", target="moto", time_scale=60.0, seed=7,
                     scenarios=list(results))


def test_written_report_follows_the_contract(tmp_path: Path) -> None:
    passing = scenario_result(["met"] * 5)
    failing = scenario_result(["met", "late", "missing", "met", "met"], held=False)
    written = write_json(report(passing, failing), tmp_path / "run" / "report.json")
    assert written == tmp_path / "run" / "report.json"
    data = json.loads(written.read_text(encoding="utf-8"))
    assert validate_report_data(data) == []

    assert (data["run_id"], data["target"], data["verdict"], data["time_scale"], data["seed"]) == (
        "gdsim-20240501T101500-ab12", "moto", "fail", 60.0, 7)
    first, second = data["scenarios"]
    assert (first["id"], first["verdict"], first["finding_types"]) == (
        "crypto", "pass", ["CryptoCurrency:EC2/BitcoinTool.B!DNS"])
    assert second["verdict"] == "fail" and second["unmet"] == 2
    assert [s["verdict"] for s in second["steps"]] == ["met", "late", "missing", "met", "met"]
    missing = second["steps"][2]
    assert missing["observed_seconds"] is None and missing["observed_wall_seconds"] is None
    expected = {"id": "notify", "sla_seconds": 300.0, "observed_seconds": 30.0, "observed_wall_seconds": 0.5,
                "sla_text": "5m", "source": "journal"}
    assert {key: second["steps"][0][key] for key in expected} == expected
    assert isinstance(second["steps"][0]["sla_seconds"], float)
    assert second["invariants"][0] == {"id": "blast_radius", "held": False,
                                       "detail": "ec2:StopInstances on i-n (bystander 'n')", "violations": []}
    assert second["invocations"] == {"total": 2, "cold": 1, "warm": 1, "errors": 1, "timeouts": 0,
                                     "retries": 1, "dead_letters": 0}
    assert second["journal"] == {"calls": 3, "mutating": 2, "errors": 1, "faults": 0,
                                 "by_service": {"ec2": 2, "sns": 1}}
    assert second["repro"] == "simulate --scenario crypto --time-scale 60 --seed 7"
    assert second["finding_ids"] == [FINDING["id"]]


def test_write_json_into_a_folder_names_the_file_report_json(tmp_path: Path) -> None:
    written = write_json(report(scenario_result(["met"] * 5)), tmp_path)
    assert written == tmp_path / "report.json"
    assert validate_report_data(json.loads(written.read_text())) == []


def test_the_verdict_follows_steps_invariants_and_errors() -> None:
    assert scenario_result(["met"] * 5).verdict == "pass"
    assert scenario_result(["met"] * 4 + ["late"]).verdict == "fail"
    assert scenario_result(["met"] * 5, held=False).verdict == "fail"
    aborted = scenario_result(["met"] * 5)
    aborted.error = "sandbox died"
    assert aborted.verdict == "fail"
    assert report(scenario_result(["met"] * 5)).exit_code == 0
    assert report(scenario_result(["met"] * 5)).passed
    assert report(scenario_result(["met"] * 5), aborted).exit_code == 1
    assert not report(scenario_result(["met"] * 5), aborted).passed
    assert not report().passed, "a run of no scenario proves nothing"


def test_another_responder_and_chaos_appear_in_the_repro() -> None:
    scenario = load_scenario("crypto")
    result = ScenarioResult.build(scenario=scenario, findings=[FINDING], steps=[], invariants=[], seed=3,
                                  time_scale=100.0, responder="mine.py:handle", chaos="flaky-ec2")
    assert result.repro == ("simulate --scenario crypto --responder mine.py:handle --chaos flaky-ec2 "
                            "--time-scale 100 --seed 3")


def mutated(data: dict[str, Any], change: Any) -> dict[str, Any]:
    copied = copy.deepcopy(data)
    change(copied)
    return copied


@pytest.mark.parametrize(("change", "where"), [
    (lambda d: d.pop("run_id"), "(top)"),
    (lambda d: d["scenarios"][0].pop("finding_types"), "scenarios/0"),
    (lambda d: d["scenarios"][0].update(verdict="ok"), "scenarios/0/verdict"),
    (lambda d: d["scenarios"][0]["steps"][0].update(verdict="done"), "scenarios/0/steps/0/verdict"),
    (lambda d: d["scenarios"][0]["steps"][0].update(sla_seconds="5m"), "scenarios/0/steps/0/sla_seconds"),
    (lambda d: d["scenarios"][0]["steps"][0].update(verdict="missing"), "scenarios/0/steps/0/observed_seconds"),
    (lambda d: d["scenarios"][0]["steps"][0].update(observed_seconds=None), "scenarios/0/steps/0/observed_seconds"),
    (lambda d: d["scenarios"][0]["invariants"][0].update(held="yes"), "scenarios/0/invariants/0/held"),
    (lambda d: d["scenarios"][0]["invariants"][0].pop("detail"), "scenarios/0/invariants/0"),
])
def test_the_schema_refuses_what_breaks_the_contract(change: Any, where: str) -> None:
    data = report_to_dict(report(scenario_result(["met"] * 5)))
    assert validate_report_data(data) == []
    problems = validate_report_data(mutated(data, change))
    assert problems and all(p.startswith(where) for p in problems), problems


def test_a_non_finite_number_is_never_written(tmp_path: Path) -> None:
    result = scenario_result(["met"] * 5)
    result.steps[0] = StepVerdict("notify", 300.0, math.inf, math.inf, "met")
    with pytest.raises(ValueError):
        write_json(report(result), tmp_path / "report.json")
