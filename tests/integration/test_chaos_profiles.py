"""The crypto runbook under every chaos profile, on real sandboxes with real responder processes.

The reference responder (which retries throttling and escalates what it cannot finish) must meet its
SLAs or escalate under each profile; a responder without retries must fail under `throttle`, and the
report must name the throttled calls; a dropped event must be reported lost; the same seed must give
the same faults and the same verdicts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.reports import ChaosEffects, ScenarioResult, report_to_dict, validate_report_data
from simulator.reports.model import RunReport
from simulator.runner import RunOptions, run_scenario
from simulator.scenario import load_scenario
from simulator.targets.moto import MotoForkServer

pytestmark = pytest.mark.integration

NO_RETRIES = f"{Path(__file__).resolve().parents[1] / 'fixtures' / 'responders' / 'no_retries.py'}:handler"
SEED = 7


@pytest.fixture(scope="module")
def fork_server() -> Iterator[MotoForkServer]:
    with MotoForkServer() as server:
        yield server


def run(fork_server: MotoForkServer, profile: str | None, *, time_scale: float = 60.0,
        responder: str | None = None, seed: int = SEED) -> ScenarioResult:
    options = RunOptions(seed=seed, time_scale=time_scale, responder=responder, fork_server=fork_server,
                         chaos=profile)
    return run_scenario(load_scenario("crypto"), options, f"gdsim-chaos-{profile or 'none'}")


def effects(result: ScenarioResult) -> ChaosEffects:
    assert result.chaos is not None, "a run under a chaos profile reports what the chaos did"
    return result.chaos


def invariants(result: ScenarioResult) -> dict[str, bool]:
    return {inv.id: inv.held for inv in result.invariants}


def verdicts(result: ScenarioResult) -> dict[str, str]:
    return {step.id: step.verdict for step in result.steps}


# Time scales keep each run short: a step the responder cannot do keeps the observers waiting for
# the whole window (1.5 times the longest SLA), and the reference responder takes a few hundred ms.
# deny-snapshot and drop have tests of their own below.
PROFILES = ("throttle", "flaky-5xx", "slow-api", "duplicate", "reorder", "storm", "bad-day")


@pytest.mark.parametrize("profile", PROFILES)
def test_the_reference_responder_meets_its_slas_or_escalates(fork_server: MotoForkServer, profile: str) -> None:
    result = run(fork_server, profile)
    chaos = effects(result)
    held = invariants(result)
    # The chaos really happened.
    assert chaos.profile == profile and (chaos.faults or chaos.deliveries)
    assert chaos.errors == [] and result.harness_errors == []
    # Nothing lost, nothing done twice, nothing outside the blast radius, no error left unhandled.
    assert held == {"blast_radius": True, "no_unhandled_errors": True, "remediated_or_escalated": True,
                    "no_duplicate_side_effects": True}, result.invariants
    missed = [step for step in result.steps if step.verdict != "met"]
    if missed:
        # What it could not do, it escalated, and the report says which chaos made it.
        assert chaos.attribution, missed
        assert any(line.startswith(("step ", "steps ")) for line in chaos.attribution)
    # Every planned delivery, duplicates and updates included, reached the responder.
    assert result.invocations.total == chaos.planned_deliveries
    # And report.json carries it, valid against the report schema.
    data = report_to_dict(RunReport("gdsim-chaos", "moto", 60.0, SEED, [result], chaos=profile))
    assert validate_report_data(data) == []
    assert data["scenarios"][0]["chaos"]["profile"] == profile


def test_an_action_denied_is_escalated_and_attributed(fork_server: MotoForkServer) -> None:
    result = run(fork_server, "deny-snapshot", time_scale=600.0)
    assert set(effects(result).faults) == {"deny"}
    steps = verdicts(result)
    assert steps["snapshot"] == "missing"
    assert {steps[name] for name in ("notify", "quarantine", "revoke-credentials", "stop")} == {"met"}
    assert invariants(result)["remediated_or_escalated"]  # by the page it sent
    (line,) = [line for line in effects(result).attribution if line.startswith("step snapshot")]
    assert "ec2:CreateSnapshot" in line and "'deny'" in line and "UnauthorizedOperation" in line
    assert "never succeeded" in line


def test_a_dropped_event_leaves_the_finding_lost_and_the_report_says_so(fork_server: MotoForkServer) -> None:
    result = run(fork_server, "drop", time_scale=3600.0)
    assert result.invocations.total == 0
    assert set(verdicts(result).values()) == {"missing"}
    assert not invariants(result)["remediated_or_escalated"]
    fid = result.finding_ids[0]
    assert f"finding {fid} lost: its event was dropped by chaos and nothing escalated it" in effects(result).attribution
    assert effects(result).deliveries == [f"finding {fid}: dropped - never delivered (dropped)"]
    assert "--chaos drop" in result.repro


def test_a_responder_without_retries_passes_without_chaos_and_fails_under_throttle(
        fork_server: MotoForkServer) -> None:
    control = run(fork_server, None, time_scale=600.0, responder=NO_RETRIES)
    assert set(verdicts(control).values()) == {"met"}, control.steps
    assert all(invariants(control).values()) and control.chaos is None

    throttled = run(fork_server, "throttle", time_scale=600.0, responder=NO_RETRIES)
    assert not throttled.passed
    assert "met" not in set(verdicts(throttled).values())
    assert not invariants(throttled)["no_unhandled_errors"]
    # The report names the throttled calls, with the error each got.
    chaos = effects(throttled)
    assert "'throttle' (RequestLimitExceeded)" in "\n".join(chaos.attribution)
    assert any(line.startswith("chaos fault 'throttle' on ec2:DescribeInstances") for line in chaos.fault_calls)
    assert chaos.faults["throttle"] >= 1


def test_the_same_seed_gives_the_same_faults_and_verdicts(fork_server: MotoForkServer) -> None:
    first, second = run(fork_server, "bad-day", seed=11), run(fork_server, "bad-day", seed=11)
    assert effects(first).fault_signature == effects(second).fault_signature and effects(first).fault_signature
    assert effects(first).delivery_signature == effects(second).delivery_signature
    assert verdicts(first) == verdicts(second)
    assert invariants(first) == invariants(second)
