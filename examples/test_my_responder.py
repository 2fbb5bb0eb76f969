"""Testing a team's own responder against gdsim's crypto-mining runbook, with the gdsim pytest plugin only.

Run: pytest examples/   (the plugin loads itself once gdsim is installed; see examples/README.md)
"""

from __future__ import annotations

from pathlib import Path

import pytest

RESPONDER = f"{Path(__file__).with_name('my_responder.py')}:handler"


@pytest.mark.gdsim(scenario="crypto", responder=RESPONDER)
def test_responder_meets_the_crypto_runbook(gdsim_result):
    # Every step within its SLA and every invariant held, else the failure lists what was missed and the repro.
    gdsim_result.assert_passed()


@pytest.mark.gdsim(scenario="crypto", responder=RESPONDER)
def test_instance_is_isolated_before_the_on_call_could_log_in(gdsim_run):
    result = gdsim_run()
    result.assert_passed("quarantine")  # this step within its SLA, and every invariant held
    assert result.step("quarantine").observed_seconds < 5 * 60  # runbook seconds from the finding
    assert result.invariant("blast_radius").held
