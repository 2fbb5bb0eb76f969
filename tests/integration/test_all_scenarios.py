"""`simulate run --all` as a user runs it: in parallel (-j 2) it gives exactly the verdicts of a serial run (-j 1),
exits 0 and writes its reports; and every threat purpose has a runbook.

Whether each scenario passes with its reference responder, and fails with one that does nothing, is the scenario
suite's job (tests/scenarios/, one test per scenario through the pytest plugin). Here `run --all` runs a cheap,
representative set (EC2, IAM user, S3, network, a Step Functions state machine), from a GDSIM_HOME whose
scenarios/ folder holds only those.
"""

from __future__ import annotations

import json
import os
import shutil
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
# The Step Functions ladder waits on its timers (40 s at 30x) whatever -j is; benchmarks/run_all.py compares
# every scenario, the ladder included.
FAMILIES = (
    "credentialaccess-anomalous-user",  # IAM user: keys, sessions, console password, a page
    "crypto",  # EC2: quarantine, snapshots, role credentials, stop
    "object-s3-malicious-file",  # S3: an object moved into the case file
    "trojan-ec2-dns-exfiltration",  # network isolation
)
# A runbook minute in two wall seconds: room for a loaded CI machine while the SLAs still bite.
TIME_SCALE = "30"
SEED = "5"
REPORT_FILES = ["junit.xml", "report.html", "report.json", "report.md"]


def home_with(tmp_path: Path, scenario_ids: tuple[str, ...]) -> Path:
    """A GDSIM_HOME like the project's, but whose scenarios/ folder holds only ``scenario_ids``."""
    home = tmp_path / "home"
    (home / "scenarios").mkdir(parents=True)
    for entry in ROOT.iterdir():
        if entry.name not in {"scenarios", "reports"}:
            (home / entry.name).symlink_to(entry)
    for scenario_id in scenario_ids:
        shutil.copy(ROOT / "scenarios" / f"{scenario_id}.yaml", home / "scenarios")
    return home


def start_run_all(home: Path, report_dir: Path, jobs: int) -> subprocess.Popen[str]:
    report_dir.mkdir()
    with (report_dir.parent / f"j{jobs}.log").open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "simulator", "run", "--all", "-j", str(jobs), "--seed", SEED,
             "--time-scale", TIME_SCALE, "--quiet", "--report-dir", str(report_dir)],
            cwd=ROOT, env={**os.environ, "GDSIM_HOME": str(home)}, stdout=log, stderr=subprocess.STDOUT, text=True,
        )


def finish(process: subprocess.Popen[str], report_dir: Path, jobs: int) -> tuple[int, str, dict[str, Any]]:
    code = process.wait(timeout=600)
    output = (report_dir.parent / f"j{jobs}.log").read_text()
    report_file = report_dir / "report.json"
    return code, output, json.loads(report_file.read_text()) if report_file.exists() else {}


def verdicts(report: dict[str, Any]) -> dict[str, Any]:
    """What must not depend on parallelism: each scenario's findings, verdict, step verdicts and invariants."""
    return {
        scenario["id"]: {
            "finding_ids": scenario["finding_ids"],
            "verdict": scenario["verdict"],
            "steps": [(step["id"], step["verdict"]) for step in scenario["steps"]],
            "invariants": [(invariant["id"], invariant["held"]) for invariant in scenario["invariants"]],
        }
        for scenario in report["scenarios"]
    }


def unmet(report: dict[str, Any]) -> dict[str, Any]:
    return {
        scenario["id"]: ([step["id"] for step in scenario["steps"] if step["verdict"] != "met"],
                         [inv["detail"] for inv in scenario["invariants"] if not inv["held"]], scenario["repro"])
        for scenario in report["scenarios"] if scenario["verdict"] != "pass"
    }


# One test for both runs: under xdist a fixture shared by several tests would run once per worker. The two runs
# go side by side: the serial one spends most of its time waiting on the escalation ladder's timers.
def test_run_all_in_parallel_gives_the_verdicts_of_a_serial_run(tmp_path: Path) -> None:
    home = home_with(tmp_path, FAMILIES)
    started = {jobs: start_run_all(home, tmp_path / f"j{jobs}", jobs) for jobs in (1, 2)}
    try:
        runs = {jobs: finish(process, tmp_path / f"j{jobs}", jobs) for jobs, process in started.items()}
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()  # its emulator follows it: the fork server dies with its parent
                process.wait()
    for jobs, (code, output, report) in runs.items():
        shown = f"-j {jobs}:\n{output[-6000:]}"
        assert validate_report_data(report) == [], shown
        assert [scenario["id"] for scenario in report["scenarios"]] == sorted(FAMILIES), shown
        assert unmet(report) == {}, shown
        assert code == 0, shown
        assert sorted(path.name for path in (tmp_path / f"j{jobs}").iterdir()) == REPORT_FILES
    assert verdicts(runs[2][2]) == verdicts(runs[1][2])


def test_every_threat_purpose_has_a_runbook() -> None:
    purposes = {finding_type.threat_purpose for finding_type in catalog.active_types().values()}
    covered = {scenario.threat_purpose for scenario in list_scenarios()}
    assert purposes - covered == set()
