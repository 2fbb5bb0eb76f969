"""Every reference responder, not only crypto's, under the mixed `bad-day` profile: slow and throttled
calls, 500s, dropped SNS connections, late and duplicated events. Each must meet its SLAs or escalate,
lose no finding, repeat no side effect and touch nothing outside the blast radius; a miss must be blamed
on the chaos that caused it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulator.reports import ScenarioResult
from simulator.runner import RunOptions, run_scenario
from simulator.scenario import load_scenario
from simulator.targets.moto import MotoForkServer

pytestmark = pytest.mark.integration

# One scenario per reference responder family (crypto has its own module: test_chaos_profiles.py).
FAMILIES = {
    "responders.iam_user": "credentialaccess-anomalous-user",
    "responders.instance_credentials": "unauthorizedaccess-instance-credentials",
    "responders.s3": "exfiltration-s3-malicious-ip-caller",
    "responders.network": "recon-ec2-port-probe",
    "responders.notify_escalate": "policy-eks-anonymous-access",
    "stepfunctions escalation ladder": "escalation-ladder",
}


@pytest.fixture(scope="module")
def fork_server() -> Iterator[MotoForkServer]:
    with MotoForkServer() as server:
        yield server


def run(fork_server: MotoForkServer, scenario_id: str, seed: int) -> ScenarioResult:
    options = RunOptions(seed=seed, time_scale=120.0, fork_server=fork_server, chaos="bad-day")
    return run_scenario(load_scenario(scenario_id), options, f"gdsim-bad-day-{scenario_id[:20]}")


# The identity runbooks make the most calls, so bad-day latency makes them the longest: the slow environment.
SLOW = {"responders.iam_user", "responders.instance_credentials"}


@pytest.mark.parametrize("scenario_id", [pytest.param(scenario, id=family, marks=[pytest.mark.slow] if family in SLOW
                                                      else []) for family, scenario in FAMILIES.items()])
def test_each_reference_responder_meets_its_slas_or_escalates_on_a_bad_day(
        fork_server: MotoForkServer, scenario_id: str) -> None:
    result = run(fork_server, scenario_id, seed=3)
    chaos = result.chaos
    assert chaos is not None and chaos.profile == "bad-day"
    # The chaos really happened: calls were faulted or deliveries bent.
    assert chaos.faults or chaos.deliveries, chaos
    assert result.error is None and chaos.errors == []
    held = {inv.id: inv.held for inv in result.invariants}
    assert held == dict.fromkeys(held, True), [inv for inv in result.invariants if not inv.held]
    assert {"remediated_or_escalated", "no_duplicate_side_effects", "blast_radius"} <= set(held)
    missed = [step.id for step in result.steps if step.verdict != "met"]
    if missed:
        assert any(line.startswith(("step ", "steps ")) for line in chaos.attribution), (missed, chaos.attribution)
