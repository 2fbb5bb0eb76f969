"""The pytest-free core: how a responder is named, and the failure message a test shows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from report_samples import SECRETS, failing_result, passing_result

from simulator.api import ScenarioFailed, assert_passed, explain, responder_spec
from simulator.errors import GdsimError

HERE = Path(__file__).resolve()


def module_level_handler(event: object, context: object) -> None:
    return None


def test_responder_spec_from_a_function_a_file_and_a_string() -> None:
    assert responder_spec(None) is None
    assert responder_spec(module_level_handler) == f"{HERE}:module_level_handler"
    assert responder_spec(HERE) == f"{HERE}:handler"
    assert responder_spec(f"{HERE}:other") == f"{HERE}:other"
    assert responder_spec("responders.crypto:handler") == "responders.crypto:handler"


def test_responder_spec_refuses_what_cannot_run_in_its_own_process() -> None:
    def nested(event: object, context: object) -> None:
        return None

    with pytest.raises(GdsimError, match="module-level function"):
        responder_spec(nested)
    with pytest.raises(GdsimError, match="does not exist"):
        responder_spec("no/such/file.py:handler")


def test_the_failure_message_lists_unmet_steps_broken_invariants_and_the_repro() -> None:
    message = explain(failing_result())
    assert message is not None
    lines = message.splitlines()
    assert lines[0] == ("scenario crypto failed: 3 of 5 step(s) unmet, 2 of 4 invariant(s) broken "
                        "(time scale 60x, seed 7)")
    assert any(line.startswith("  step quarantine (Isolate the instance from the network): late: observed at "
                               "16m00s (wall 16.00 s), SLA 15m") for line in lines)
    assert any(line.startswith("  step stop (Stop the instance): missing") and "is running" in line
               for line in lines)
    assert "  invariant blast_radius broken: 1 change outside the finding's blast radius" in lines
    assert "    - deploy-user: CreateLoginProfile by the responder" in lines
    assert any(line.startswith("  responder error (attempt 1): ClientError: login failed") for line in lines)
    assert lines[-1] == "repro: simulate --scenario crypto --responder examples/my_responder.py:handler " \
                        "--time-scale 60 --seed 7"
    for secret in SECRETS:
        assert secret not in message


def test_assertions_can_be_limited_to_some_steps() -> None:
    result = failing_result()
    with pytest.raises(ScenarioFailed):
        result.assert_passed()
    with pytest.raises(ScenarioFailed, match="step quarantine"):
        result.assert_passed("notify", "quarantine")
    clean = replace(result, invariants=[replace(inv, held=True) for inv in result.invariants])
    clean.assert_passed("notify", "snapshot")  # those two were met and every invariant held
    with pytest.raises(KeyError, match=r"no step 'quarantin'.*notify, quarantine"):
        clean.assert_passed("quarantin")


def test_a_passing_result_has_no_message() -> None:
    assert explain(passing_result()) is None
    assert_passed(passing_result())
    assert passing_result().step("notify").verdict == "met"
    assert passing_result().invariant("blast_radius").held
