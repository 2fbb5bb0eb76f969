"""The pytest plugin as users meet it: examples/ run by a real pytest process passes against the example responder,
and fails with a readable message against a responder that does nothing; harness errors surface in the test; a
test asking for gdsim_scenario is collected once per selected scenario."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from simulator import pytest_plugin, runner
from simulator.scenario import list_scenarios

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DOES_NOTHING = ROOT / "tests" / "fixtures" / "responders" / "does_nothing.py"


def plugin_args() -> list[str]:
    """Load the plugin by name only while the `pytest11` entry point is not installed (loading it twice fails)."""
    installed = any(ep.value == "simulator.pytest_plugin" for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", "simulator.pytest_plugin"]


def pytest_run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "GDSIM_"))}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *plugin_args(), *args],
                          cwd=folder, capture_output=True, text=True, timeout=600, env=env)


def test_the_example_passes_against_its_responder(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    # Under xdist, as the README runs it: each worker starts its own emulator.
    done = pytest_run(EXAMPLES, "-q", "-n", "2", "--strict-markers", "--gdsim-report-dir", str(reports), str(EXAMPLES))
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "5 passed" in done.stdout
    scenario_of = {folder.name: json.loads((folder / "report.json").read_text())["scenarios"][0]["id"]
                   for folder in reports.iterdir()}
    assert scenario_of == {
        "examples_test_ec2_runbooks.py_test_responder_meets_the_runbook_backdoor-ec2-command-and-control":
            "backdoor-ec2-command-and-control",
        "examples_test_ec2_runbooks.py_test_responder_meets_the_runbook_execution-ec2-malicious-file":
            "execution-ec2-malicious-file",
        "examples_test_ec2_runbooks.py_test_responder_meets_the_runbook_trojan-ec2-dns-exfiltration":
            "trojan-ec2-dns-exfiltration",
        "examples_test_my_responder.py_test_instance_is_isolated_before_the_on_call_could_log_in": "crypto",
        "examples_test_my_responder.py_test_responder_meets_the_crypto_runbook": "crypto",
    }
    for folder in reports.iterdir():
        assert sorted(p.name for p in folder.iterdir()) == ["junit.xml", "report.html", "report.json", "report.md"]


def test_the_example_fails_readably_against_a_responder_that_does_nothing(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "test_my_responder.py", tmp_path)
    shutil.copy(DOES_NOTHING, tmp_path / "my_responder.py")
    # A runbook hour passes in a second: a responder that does nothing is judged in seconds.
    done = pytest_run(tmp_path, "-q", "--gdsim-time-scale", "3600", "--gdsim-seed", "5")
    out = done.stdout
    assert done.returncode == 1, out[-4000:] + done.stderr[-2000:]
    assert "2 failed" in out
    assert "scenario crypto failed: 5 of 5 step(s) unmet, 1 of 4 invariant(s) broken (time scale 3600x, seed 5)" \
        in out
    assert "step notify (Notify the IR on-call): missing: never observed within the run (SLA 5m)" in out
    assert "invariant remediated_or_escalated broken" in out
    assert "responder's last log line: received finding" in out
    assert f"repro: simulate --scenario crypto --responder {tmp_path / 'my_responder.py'}:handler " \
           "--time-scale 3600 --seed 5" in out
    assert "step quarantine (Isolate the instance from the network): missing" in out  # the step-limited assert
    assert "gdsim crypto" in out  # the scorecard section pytest prints under a failed test
    assert "INTERNALERROR" not in out + done.stderr


def test_harness_and_usage_errors_are_raised_in_the_test(tmp_path: Path) -> None:
    (tmp_path / "test_errors.py").write_text(textwrap.dedent("""
        import pytest

        def test_unknown_scenario(gdsim_run):
            gdsim_run("no-such-scenario")

        def test_missing_responder_file(gdsim_run):
            gdsim_run("crypto", responder="nowhere/responder.py:handler")

        @pytest.mark.gdsim(scenario="crypto", colour="blue")
        def test_bad_marker(gdsim_result):
            pass

        def test_result_without_marker(gdsim_result):
            pass

        @pytest.mark.gdsim(scenario="crypto", scenarios=["crypto"])
        def test_one_and_many(gdsim_result):
            pass
    """))
    done = pytest_run(tmp_path, "-q", "--strict-markers", "-rfE")
    out = done.stdout
    assert done.returncode == 1, out[-4000:] + done.stderr[-2000:]
    assert "2 failed, 3 errors" in out
    assert "FAILED test_errors.py::test_unknown_scenario" in out and "no-such-scenario" in out
    assert "FAILED test_errors.py::test_missing_responder_file" in out and "does not exist" in out
    assert "unknown option(s) colour" in out
    assert "needs @pytest.mark.gdsim(scenario=...)" in out
    assert "give scenario=NAME (one) or scenarios=[...]" in out


def test_a_test_asking_for_gdsim_scenario_is_collected_once_per_selected_scenario(tmp_path: Path) -> None:
    (tmp_path / "runbooks").mkdir()
    shutil.copy(ROOT / "scenarios" / "crypto.yaml", tmp_path / "runbooks")
    (tmp_path / "test_selection.py").write_text(textwrap.dedent("""
        import pytest

        pytestmark = pytest.mark.gdsim(scenarios=["trojan-ec2-dns-exfiltration", "crypto"], time_scale=30)

        def test_module_selection(gdsim_scenario):
            pass

        @pytest.mark.gdsim(responder="my_responder.py:handler")
        def test_module_selection_with_own_responder(gdsim_scenario):
            pass

        @pytest.mark.gdsim(scenarios="runbooks")
        def test_folder(gdsim_scenario):
            pass

        @pytest.mark.gdsim(scenario="escalation-ladder")
        def test_single_scenario(gdsim_scenario):
            pass

        def test_without_the_fixture(gdsim_seed):
            pass
    """))
    (tmp_path / "test_every_scenario.py").write_text("def test_every(gdsim_scenario):\n    pass\n")
    (tmp_path / "test_unknown_scenario.py").write_text(textwrap.dedent("""
        import pytest

        @pytest.mark.gdsim(scenarios=["crypto", "no-such-runbook"])
        def test_unknown(gdsim_scenario):
            pass
    """))
    done = pytest_run(tmp_path, "--collect-only", "-q", "--strict-markers", "--continue-on-collection-errors")
    collected = [line for line in done.stdout.splitlines() if "::" in line and not line.startswith("ERROR")]
    assert collected == [
        *[f"test_every_scenario.py::test_every[{scenario.id}]" for scenario in list_scenarios()],
        "test_selection.py::test_module_selection[trojan-ec2-dns-exfiltration]",
        "test_selection.py::test_module_selection[crypto]",
        "test_selection.py::test_module_selection_with_own_responder[trojan-ec2-dns-exfiltration]",
        "test_selection.py::test_module_selection_with_own_responder[crypto]",
        "test_selection.py::test_folder[crypto]",
        "test_selection.py::test_single_scenario[escalation-ladder]",
        "test_selection.py::test_without_the_fixture",
    ], done.stdout[-4000:] + done.stderr[-2000:]
    assert "ERROR collecting test_unknown_scenario.py" in done.stdout
    assert "@pytest.mark.gdsim(scenarios=...): --scenario: unknown scenario 'no-such-runbook'" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_the_plugin_default_time_scale_is_the_runners() -> None:
    assert pytest_plugin.DEFAULT_TIME_SCALE == runner.DEFAULT_TIME_SCALE
