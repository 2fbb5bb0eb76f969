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


def test_the_observers_read_nothing_during_the_storm_and_confirm_with_batched_reads(tmp_path: Path) -> None:
    report = run_storm(load_scenario("crypto"), RunOptions(seed=7, time_scale=60.0),
                       StormOptions(rate=8, duration=1.5, resources=4, verify="all"), "gdsim-storm-reads")
    assert report.findings == 12 and report.remediated == 12 and report.checks == 12 * 5, render_storm(report)
    calls = report.observer_calls
    assert calls["storm"] == {}  # nothing the harness observes competes with the responder while it works
    # Prepared once per resource copy, not per finding.
    assert calls["prepare"]["ec2:DescribeVolumes"] == 4
    # Confirmed with one batched read for all twelve findings, not one per finding.
    assert calls["confirm"]["ec2:DescribeInstances"] == 1
    assert calls["confirm"]["ec2:DescribeTags"] == 1 and calls["confirm"]["ec2:DescribeSnapshots"] == 1
    assert "ec2:DescribeSnapshots" not in calls["prepare"]
    # What the invariants read at the end: per finding, its message and a snapshot of each of its two volumes.
    assert report.calls_kept == 12 * 3 and report.disagreements == [] and report.unconfirmed == []


def test_describing_instances_reads_past_the_emulators_first_page() -> None:
    from simulator.provision.compute import describe_instances
    from simulator.targets.moto import MotoTarget

    target = MotoTarget()
    try:
        sandbox = target.start()
        ec2 = sandbox.client("ec2")
        image = ec2.register_image(Name="bench", RootDeviceName="/dev/xvda", VirtualizationType="hvm")["ImageId"]
        ids = [ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
               for _ in range(105)]  # one reservation each: the emulator answers 100 reservations a page
        first_page = ec2.describe_instances(InstanceIds=ids)
        assert len(first_page["Reservations"]) == 100 and first_page.get("NextToken")
        described = describe_instances(ec2, ids)
        assert sorted(described) == sorted(ids) and described[ids[-1]]["ImageId"] == image
    finally:
        target.stop()
