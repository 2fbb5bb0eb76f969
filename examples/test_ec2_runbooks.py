"""The same responder against every EC2 runbook it is deployed for: one test per scenario, named by its id.

Run: pytest examples/test_ec2_runbooks.py   (add -n 2 with pytest-xdist: one emulator per worker)
"""

from __future__ import annotations

from pathlib import Path

import pytest

RESPONDER = f"{Path(__file__).with_name('my_responder.py')}:handler"
# Names from gdsim's scenarios/ folder; a folder of your own runbooks works too: scenarios="runbooks/".
EC2_RUNBOOKS = ["backdoor-ec2-command-and-control", "execution-ec2-malicious-file", "trojan-ec2-dns-exfiltration"]


@pytest.mark.gdsim(scenarios=EC2_RUNBOOKS, responder=RESPONDER)
def test_responder_meets_the_runbook(gdsim_scenario, gdsim_result):
    # gdsim_scenario is the runbook this test runs (id, title, steps and SLAs); gdsim_result is its run.
    gdsim_result.assert_passed()
    # The team's own target, tighter than every runbook's SLA: isolated within ten runbook minutes.
    assert gdsim_result.step("quarantine").observed_seconds < 10 * 60, gdsim_scenario.title
