"""The project's own regression suite: `simulate run --all` on the embedded target, as a user runs it.

Every scenario must pass with its reference responder, every threat purpose must have a runbook, and a
responder that does nothing must fail every one of them (so no scenario passes vacuously).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from simulator import catalog
from simulator.reports import validate_report_data
from simulator.scenario import list_scenarios

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DOES_NOTHING = ROOT / "tests" / "fixtures" / "responders" / "does_nothing.py"


def run_all(report_dir: Path, *args: str) -> tuple[int, str, dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "run", "--all", "-j", "2", "--seed", "5", "--quiet",
         "--report-dir", str(report_dir), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    report_file = report_dir / "report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    return result.returncode, result.stdout + result.stderr, report


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict[str, Any]]:
    # A runbook minute in two seconds: room for a loaded CI machine while the SLAs still bite.
    return run_all(tmp_path_factory.mktemp("all"), "--time-scale", "30")


def test_every_scenario_passes_with_its_reference_responder(reference_run: tuple[int, str, dict[str, Any]]) -> None:
    code, output, report = reference_run
    assert validate_report_data(report) == []
    results = {scenario["id"]: scenario for scenario in report["scenarios"]}
    assert sorted(results) == sorted(s.id for s in list_scenarios())
    failures = {
        name: ([s["id"] for s in result["steps"] if s["verdict"] != "met"],
               [i["detail"] for i in result["invariants"] if not i["held"]])
        for name, result in results.items() if result["verdict"] != "pass"
    }
    assert failures == {}, output
    assert code == 0, output


def test_every_threat_purpose_has_a_runbook() -> None:
    purposes = {t.threat_purpose for t in catalog.active_types().values()}
    covered = {catalog_purpose for s in list_scenarios() for catalog_purpose in [s.threat_purpose]}
    assert purposes - covered == set()


def test_a_responder_that_does_nothing_fails_every_scenario(tmp_path: Path) -> None:
    code, output, report = run_all(tmp_path, "--responder", f"{DOES_NOTHING}:handler", "--time-scale", "3600")
    assert code == 1, output
    passed = [scenario["id"] for scenario in report["scenarios"] if scenario["verdict"] == "pass"]
    assert passed == []
    for scenario in report["scenarios"]:
        assert "met" not in {step["verdict"] for step in scenario["steps"]}, scenario["id"]
