"""The project's own scenario suite, written the way a user writes theirs with the gdsim pytest plugin.

Every runbook in scenarios/ passes with its reference responder, and fails with a responder that does nothing
(so no scenario passes vacuously). Each test is named by its scenario; a failure lists the unmet steps and the
command that replays the run. Under `pytest -n N` every worker starts one emulator and forks a fresh sandbox
from it for each test.
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


# Nothing is ever done, so a runbook hour may pass in a wall second: every step is judged missing at once.
@pytest.mark.gdsim(responder=DOES_NOTHING, time_scale=3600)
def test_fails_with_a_responder_that_does_nothing(gdsim_scenario: Any, gdsim_result: Any) -> None:
    assert gdsim_result.invocations.total >= 1, "the finding never reached the responder"
    assert [step.id for step in gdsim_result.steps if step.verdict == "met"] == []
    assert gdsim_result.verdict == "fail"
