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

from simulator.chaos import ChaosRun, load_profile, run_with_chaos
from simulator.runner import RunOptions
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
        responder: str | None = None, seed: int = SEED) -> ChaosRun:
    options = RunOptions(seed=seed, time_scale=time_scale, responder=responder, fork_server=fork_server)
    return run_with_chaos(load_scenario("crypto"), options, f"gdsim-chaos-{profile or 'none'}",
                          load_profile(profile) if profile else None)


def invariants(chaos_run: ChaosRun) -> dict[str, bool]:
    return {inv.id: inv.held for inv in chaos_run.result.invariants}


def verdicts(chaos_run: ChaosRun) -> dict[str, str]:
    return {step.id: step.verdict for step in chaos_run.result.steps}


# Time scales keep each run short: a step the responder cannot do keeps the observers waiting for
# the whole window (1.5 times the longest SLA), and the reference responder takes a few hundred ms.
# deny-snapshot and drop have tests of their own below.
PROFILES = ("throttle", "flaky-5xx", "slow-api", "duplicate", "reorder", "storm", "bad-day")


@pytest.mark.parametrize("profile", PROFILES)
def test_the_reference_responder_meets_its_slas_or_escalates(fork_server: MotoForkServer, profile: str) -> None:
    chaos_run = run(fork_server, profile)
    held = invariants(chaos_run)
    # The chaos really happened.
    assert (chaos_run.faults is not None and chaos_run.faults.injected) or chaos_run.plan.anomalies()
    assert chaos_run.errors == []
    # Nothing lost, nothing done twice, nothing outside the blast radius, no error left unhandled.
    assert held == {"blast_radius": True, "no_unhandled_errors": True, "remediated_or_escalated": True,
                    "no_duplicate_side_effects": True}, chaos_run.result.invariants
    missed = [step for step in chaos_run.result.steps if step.verdict != "met"]
    if missed:
        # What it could not do, it escalated, and the report says which chaos made it.
        assert chaos_run.attribution, missed
        assert any(line.startswith(("step ", "steps ")) for line in chaos_run.attribution)
    # Every planned delivery, duplicates and updates included, reached the responder.
    assert chaos_run.result.invocations.total == len(chaos_run.plan)


def test_an_action_denied_is_escalated_and_attributed(fork_server: MotoForkServer) -> None:
    chaos_run = run(fork_server, "deny-snapshot", time_scale=600.0)
    assert chaos_run.faults is not None and set(chaos_run.faults.counts()) == {"deny"}
    steps = verdicts(chaos_run)
    assert steps["snapshot"] == "missing"
    assert {steps[name] for name in ("notify", "quarantine", "revoke-credentials", "stop")} == {"met"}
    assert invariants(chaos_run)["remediated_or_escalated"]  # by the page it sent
    (line,) = [line for line in chaos_run.attribution if line.startswith("step snapshot")]
    assert "ec2:CreateSnapshot" in line and "'deny'" in line and "UnauthorizedOperation" in line
    assert "never succeeded" in line


def test_a_dropped_event_leaves_the_finding_lost_and_the_report_says_so(fork_server: MotoForkServer) -> None:
    chaos_run = run(fork_server, "drop", time_scale=3600.0)
    assert chaos_run.result.invocations.total == 0
    assert set(verdicts(chaos_run).values()) == {"missing"}
    assert not invariants(chaos_run)["remediated_or_escalated"]
    fid = chaos_run.result.finding_ids[0]
    assert f"finding {fid} lost: its event was dropped by chaos and nothing escalated it" in chaos_run.attribution
    assert chaos_run.delivery_lines == [f"finding {fid}: dropped - never delivered (dropped)"]
    assert "--chaos drop" in chaos_run.result.repro


def test_a_responder_without_retries_passes_without_chaos_and_fails_under_throttle(
        fork_server: MotoForkServer) -> None:
    control = run(fork_server, None, time_scale=600.0, responder=NO_RETRIES)
    assert set(verdicts(control).values()) == {"met"}, control.result.steps
    assert all(invariants(control).values())

    throttled = run(fork_server, "throttle", time_scale=600.0, responder=NO_RETRIES)
    assert not throttled.result.passed
    assert "met" not in set(verdicts(throttled).values())
    assert not invariants(throttled)["no_unhandled_errors"]
    # The report names the throttled calls, with the error each got.
    text = "\n".join(throttled.attribution)
    assert "'throttle' (RequestLimitExceeded)" in text
    assert any(line.startswith("chaos fault 'throttle' on ec2:DescribeInstances") for line in throttled.fault_lines)
    assert throttled.report["faults"]["throttle"] >= 1


def test_the_same_seed_gives_the_same_faults_and_verdicts(fork_server: MotoForkServer) -> None:
    first, second = run(fork_server, "bad-day", seed=11), run(fork_server, "bad-day", seed=11)
    assert first.faults is not None and second.faults is not None
    assert first.faults.signature() == second.faults.signature() and first.faults.injected
    assert first.plan.signature() == second.plan.signature()
    assert verdicts(first) == verdicts(second)
    assert invariants(first) == invariants(second)
