"""The project's own scenario suite, written the way a user writes theirs with the gdsim pytest plugin.

Every runbook in scenarios/ passes with its reference responder, and fails with a responder that does nothing
(so no scenario passes vacuously: one runbook per responder family by default, all of them in `tox -e slow`).
Each test is named by its scenario; a failure lists the unmet steps and the command that replays the run.
Under `pytest -n N` every worker starts one emulator and forks a fresh sandbox from it for each test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

DOES_NOTHING = Path(__file__).resolve().parents[1] / "fixtures" / "responders" / "does_nothing.py"

# A runbook minute in two wall seconds: room for a loaded CI machine while the SLAs still bite.
pytestmark = [pytest.mark.integration, pytest.mark.gdsim(time_scale=30)]


def test_passes_with_its_reference_responder(gdsim_scenario: Any, gdsim_result: Any) -> None:
    gdsim_result.assert_passed()


# One runbook per reference responder family here; every runbook in the `slow` environment (tox -e slow).
FAMILY_SAMPLES = ["crypto", "credentialaccess-anomalous-user", "unauthorizedaccess-instance-credentials",
                  "exfiltration-s3-malicious-ip-caller", "recon-ec2-port-probe", "policy-eks-anonymous-access",
                  "escalation-ladder"]


def assert_nothing_met(result: Any) -> None:
    assert result.invocations.total >= 1, "the finding never reached the responder"
    assert [step.id for step in result.steps if step.verdict == "met"] == []
    assert result.verdict == "fail"


# Nothing is ever done, so a runbook hour may pass in a wall second: every step is judged missing at once.
@pytest.mark.gdsim(responder=DOES_NOTHING, time_scale=3600, scenarios=FAMILY_SAMPLES)
def test_fails_with_a_responder_that_does_nothing(gdsim_scenario: Any, gdsim_result: Any) -> None:
    assert_nothing_met(gdsim_result)


@pytest.mark.slow
@pytest.mark.gdsim(responder=DOES_NOTHING, time_scale=3600)
def test_every_runbook_fails_with_a_responder_that_does_nothing(gdsim_scenario: Any, gdsim_result: Any) -> None:
    assert_nothing_met(gdsim_result)
