"""Storm mode on a real sandbox: a small storm through the reference crypto responder, and one through a
responder without retries under throttling, whose lost findings the report must list."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from simulator.chaos import load_profile
from simulator.commands import storm as storm_command
from simulator.runner import RunOptions
from simulator.scenario import load_scenario
from simulator.storm import StormOptions, render_storm, run_storm

pytestmark = pytest.mark.integration

NO_RETRIES = f"{Path(__file__).resolve().parents[1] / 'fixtures' / 'responders' / 'no_retries.py'}:handler"


def test_a_small_storm_through_the_reference_responder(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    storm_command.add_arguments(parser)
    args = parser.parse_args(["--scenario", "crypto", "--rate", "10", "--duration", "2s", "--time-scale", "60",
                              "--seed", "5", "--report-dir", str(tmp_path), "--quiet"])
    code = storm_command.run(args)
    report = json.loads((tmp_path / "storm.json").read_text())
    assert code == (0 if report["verdict"] == "pass" else 1)
    assert report["findings"] == 20 and report["resources"] == 20 and report["deliveries"] == 20
    assert report["remediated"] == 20 and report["unresolved"] == []
    assert {inv["id"]: inv["held"] for inv in report["invariants"]} == {
        "blast_radius": True, "no_unhandled_errors": True, "remediated_or_escalated": True,
        "no_duplicate_side_effects": True}
    assert [step["id"] for step in report["steps"]] == ["notify", "quarantine", "revoke-credentials", "snapshot",
                                                        "stop"]
    for step in report["steps"]:
        assert step["met"] + step["late"] + step["missing"] == 20 and step["missing"] == 0
        assert 0 <= step["p50"] <= step["p95"] <= step["p99"] <= step["max"]
    assert report["handled"] == 20 and report["invocations"] == 20 and report["throughput_per_second"] > 0
    assert report["api_calls"] >= 20 * 10  # each finding takes a dozen calls or more
    assert report["backlog_max"] >= 1 and report["harness_cpu_ms_per_finding"] > 0
    assert report["settled"] and report["errors"] == []


def test_a_storm_through_a_responder_without_retries_under_throttle_reports_the_lost_findings() -> None:
    options = RunOptions(seed=3, time_scale=60.0, responder=NO_RETRIES)
    report = run_storm(load_scenario("crypto"), options, StormOptions(rate=6, duration=1, resources=3),
                       "gdsim-storm-lost", load_profile("throttle"))
    assert report.findings == 6 and report.resources == 3
    assert report.faults.get("throttle", 0) > 0
    assert report.unresolved, render_storm(report)
    assert len(report.unresolved) + report.remediated + report.escalated == 6
    held = {inv.id: inv.held for inv in report.invariants}
    assert held["remediated_or_escalated"] is False and held["no_unhandled_errors"] is False
    assert report.dead_letters >= 1 and not report.passed and report.exit_code == 1
    text = render_storm(report)
    assert "neither remediated nor escalated" in text and report.unresolved[0] in text
    assert "FAIL storm crypto" in text
