"""`simulate --scenario crypto` end to end, as a user runs it: a real CLI process, a real moto server
process, real responder processes. The harness must pass the reference responder and catch bad ones."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from simulator.reports import validate_report_data

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "fixtures" / "responders"


def simulate(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str, dict]:
    report_dir = tmp_path / "report"
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "--scenario", "crypto", "--seed", "7",
         "--report-dir", str(report_dir), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=240, env={**os.environ, **(env or {})},
    )
    report = json.loads((report_dir / "report.json").read_text()) if (report_dir / "report.json").exists() else {}
    return result.returncode, result.stdout, result.stderr, report


def steps_of(report: dict) -> dict[str, str]:
    return {step["id"]: step["verdict"] for step in report["scenarios"][0]["steps"]}


def invariants_of(report: dict) -> dict[str, bool]:
    return {inv["id"]: inv["held"] for inv in report["scenarios"][0]["invariants"]}


def test_reference_responder_meets_every_sla(tmp_path: Path) -> None:
    code, out, err, report = simulate(tmp_path)
    assert code == 0, out + err
    assert validate_report_data(report) == []
    assert set(steps_of(report).values()) == {"met"}
    assert set(steps_of(report)) == {"notify", "quarantine", "revoke-credentials", "snapshot", "stop"}
    assert all(invariants_of(report).values())
    assert report["scenarios"][0]["finding_types"] == ["CryptoCurrency:EC2/BitcoinTool.B!DNS"]
    assert "PASS crypto" in out


def test_responder_that_does_nothing_misses_every_step(tmp_path: Path) -> None:
    code, out, err, report = simulate(
        tmp_path, "--responder", f"{BAD / 'does_nothing.py'}:handler", "--time-scale", "3600")
    assert code == 1, out + err
    assert set(steps_of(report).values()) == {"missing"}
    assert invariants_of(report)["remediated_or_escalated"] is False
    assert "simulate --scenario" in out  # the one-line repro


def test_responder_that_raises_is_reported_without_a_harness_traceback(tmp_path: Path) -> None:
    code, out, err, report = simulate(
        tmp_path, "--responder", f"{BAD / 'raises.py'}:handler", "--time-scale", "3600")
    assert code == 1, out + err
    assert invariants_of(report)["no_unhandled_errors"] is False
    assert "Traceback" not in err
    detail = next(i["detail"] for i in report["scenarios"][0]["invariants"] if i["id"] == "no_unhandled_errors")
    assert "dead letter" in detail or "error" in detail.lower()


def test_responder_that_is_too_slow_is_late(tmp_path: Path) -> None:
    code, out, err, report = simulate(
        tmp_path, "--responder", f"{BAD / 'too_slow.py'}:handler", "--time-scale", "600",
        env={"TOO_SLOW_DELAY_SECONDS": "900"})
    assert code == 1, out + err
    verdicts = steps_of(report)
    assert verdicts["notify"] in ("late", "missing")
    assert "late" in verdicts.values()


def test_responder_that_touches_a_bystander_breaks_the_blast_radius(tmp_path: Path) -> None:
    code, out, err, report = simulate(tmp_path, "--responder", f"{BAD / 'touches_bystander.py'}:handler")
    assert code == 1, out + err
    assert invariants_of(report)["blast_radius"] is False
    detail = next(i["detail"] for i in report["scenarios"][0]["invariants"] if i["id"] == "blast_radius")
    assert "neighbour" in detail


def test_unknown_scenario_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "simulator", "--scenario", "no-such-runbook"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "no-such-runbook" in result.stderr and "crypto" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _processes_with_marker(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.mark.parametrize("interrupts", [1, 2])
def test_ctrl_c_leaves_no_process_behind(tmp_path: Path, interrupts: int) -> None:
    marker = f"GDSIM_TEST_MARKER={uuid.uuid4().hex}"
    key, value = marker.split("=")
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--scenario", "crypto", "--report-dir", str(tmp_path),
         "--responder", f"{BAD / 'does_nothing.py'}:handler"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, key: value},
    )
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until the sandbox is up and the run is being observed
        if "observing" in line:
            break
    assert len(_processes_with_marker(marker)) >= 2  # the CLI's emulator and responder worker
    for _ in range(interrupts):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
    assert proc.wait(timeout=30) == 130
    deadline = time.monotonic() + 5
    while _processes_with_marker(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_with_marker(marker) == []
