"""`simulate gameday` end to end, as people run it: a real CLI process, one real moto sandbox per finding, the real
escalation ladder (Step Functions in the emulator) and reference responders, the simulated on-call, a person's
`simulate ack` from a second process, and Ctrl-C in the middle."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from simulator.reports import validate_report_data

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PERSON_SCENARIO = ROOT / "gamedays" / "scenarios" / "sign-in-with-a-person.yaml"
STATE_FILE = "gameday-state.json"


def marker_env() -> tuple[str, dict[str, str]]:
    value = uuid.uuid4().hex
    return value, {**os.environ, "GDSIM_TEST_MARKER": value}


def processes_with_marker(value: str) -> list[int]:
    found = []
    needle = f"GDSIM_TEST_MARKER={value}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if needle in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def assert_nothing_left(value: str) -> None:
    deadline = time.monotonic() + 10
    while processes_with_marker(value) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with_marker(value) == []


def write_plan(folder: Path, text: str) -> Path:
    path = folder / "plan.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def gameday_process(plan: Path, report_dir: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "simulator", "gameday", "--plan", str(plan),
                             "--report-dir", str(report_dir)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


class Drain:
    """Reads a process's stderr in the background (so it never blocks on a full pipe) and keeps the lines."""

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.05)
        return False

    def text(self) -> str:
        self._thread.join(timeout=10)
        return "".join(self.lines)


def wait_for_state(report_dir: Path, predicate, timeout: float) -> dict:  # type: ignore[no-untyped-def]
    """The game day's live state, once ``predicate(state)`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = json.loads((report_dir / STATE_FILE).read_text())
        except (OSError, ValueError):
            state = None
        if state is not None and predicate(state):
            return state
        time.sleep(0.1)
    raise AssertionError(f"the game day's state never showed what was awaited within {timeout} s")


def after_action(report_dir: Path) -> dict:
    return json.loads((report_dir / "gameday.json").read_text())


def test_five_findings_at_random_times_with_a_late_simulated_human(tmp_path: Path) -> None:
    """Sam acknowledges level 1 fifteen runbook minutes after its page: the ladder pages the IR lead at 10m and
    stops before the head of security at 20m, for every sign-in; the miner is remediated without a page."""
    plan = write_plan(tmp_path, """\
        name: late-human
        seed: 5
        time_scale: 120
        window: 3m
        players:
          - {name: sam, acknowledge_at_level: 1, after: 15m}
        oncall: sam
        entries:
          - {scenario: escalation-ladder, at: random, count: 4}
          - {scenario: crypto, at: random}
        """)
    marker, env = marker_env()
    report_dir = tmp_path / "report"
    done = subprocess.run([sys.executable, "-m", "simulator", "gameday", "--plan", str(plan),
                           "--report-dir", str(report_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240, env=env)
    output = done.stdout + done.stderr
    report = after_action(report_dir)
    assert done.returncode == (0 if report["verdict"] == "pass" else 1), output
    assert "Traceback" not in done.stderr

    # the schedule was printed first (the same seed gives it again: tests/unit/test_gameday_schedule.py)
    schedule = [line for line in done.stdout.splitlines() if line.startswith("  F") and "on-call:" in line]
    assert len(schedule) == 5 and done.stdout.index("on-call:") < done.stdout.index("after-action report:")

    findings = {finding["key"]: finding for finding in report["findings"]}
    assert len(findings) == 5 and not report["interrupted"]
    ladders = [finding for finding in findings.values() if finding["scenario"] == "escalation-ladder"]
    crypto = [finding for finding in findings.values() if finding["scenario"] == "crypto"]
    assert len(ladders) == 4 and len(crypto) == 1
    assert len({finding["finding_id"] for finding in findings.values()}) == 5  # each finding its own
    for finding in ladders:
        where = f"{finding['key']}: {finding}"
        assert finding["levels_paged"] == [1, 2], where
        assert finding["levels_not_paged"] == [3], where
        ack = finding["acknowledgement"]
        assert ack is not None and ack["by"] == "sam (ir-oncall-primary)" and ack["level"] == 1, where
        assert ack["next_level"] == 2 and ack["seconds"] >= 900, where  # a page, then fifteen minutes
        assert ack["before_next_level"] is False, where  # late: level 2 was due at 10m
        assert finding["outcome"] in ("within SLA", "missed"), where
    miner = crypto[0]
    assert miner["levels_paged"] == [] and miner["acknowledgement"] is None
    steps = {step["id"]: step for step in miner["steps"]}
    assert steps["notify"]["observed_seconds"] is not None and steps["quarantine"]["observed_seconds"] is not None
    assert report["handled"] == sum(1 for finding in findings.values() if finding["handled"])

    markdown = (report_dir / "gameday.md").read_text()
    assert "Acknowledged by sam (ir-oncall-primary) at level 1" in markdown and "not paged: level 3" in markdown
    assert (report_dir / "gameday.html").read_text().startswith("<!DOCTYPE html>")
    run_report = json.loads((report_dir / "report.json").read_text())
    assert validate_report_data(run_report) == [] and len(run_report["scenarios"]) == 5
    assert "after-action report:" in done.stdout and "game day late-human" in done.stdout
    assert not (report_dir / STATE_FILE).exists()  # the live state goes with the game day
    assert_nothing_left(marker)


def test_a_person_acknowledges_from_a_second_process_and_the_ladder_stops(tmp_path: Path) -> None:
    """The escalation ladder judged on a person (gamedays/scenarios/sign-in-with-a-person.yaml): level 1 is
    paged, the person acknowledges with `simulate ack` from another process, and level 2 is never paged."""
    plan = write_plan(tmp_path, f"""\
        name: person-on-call
        seed: 9
        time_scale: 60
        players:
          - {{name: you, human: true}}
        oncall: you
        entries:
          - {{scenario: {PERSON_SCENARIO}, at: 0s}}
        """)
    marker, env = marker_env()
    report_dir = tmp_path / "report"
    game = gameday_process(plan, report_dir, env)
    drain = Drain(game.stderr)
    try:
        state = wait_for_state(report_dir, lambda s: any(1 in f["levels_paged"] for f in s["findings"]), 120)
        finding = state["findings"][0]
        assert finding["human"] and finding["acknowledged"] is None
        ack = subprocess.run([sys.executable, "-m", "simulator", "ack", finding["finding_id"][:8], "--by", "tester",
                              "--gameday", str(report_dir)], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert ack.returncode == 0, ack.stdout + ack.stderr
        assert f"acknowledged F1 sign-in-with-a-person (finding {finding['finding_id']}) at level 1" in ack.stdout
        assert "before paging level 2" in ack.stdout
        again = subprocess.run([sys.executable, "-m", "simulator", "ack", "F1", "--gameday", str(report_dir)],
                               cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert again.returncode == 2 and "already acknowledged (by tester at level 1" in again.stderr
        assert game.wait(timeout=180) in (0, 1)
    finally:
        if game.poll() is None:
            game.kill()
    stdout = game.stdout.read() if game.stdout else ""
    report = after_action(report_dir)
    finding = report["findings"][0]
    assert finding["acknowledgement"]["by"] == "tester" and finding["acknowledgement"]["level"] == 1, report
    assert finding["levels_paged"] == [1] and finding["levels_not_paged"] == [2, 3]  # the ladder stopped
    assert {step["id"]: step["observed_seconds"] is not None for step in finding["steps"]} == {
        "page-oncall": True, "oncall-takes-it": True}
    assert "acknowledged by tester at level 1" in drain.text()
    assert "after-action report:" in stdout
    # the game day is over: `simulate ack` says so
    late = subprocess.run([sys.executable, "-m", "simulator", "ack", "F1", "--gameday", str(report_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert late.returncode == 2 and "no game day is running" in late.stderr
    assert_nothing_left(marker)


def test_ctrl_c_tears_everything_down_and_writes_a_partial_report(tmp_path: Path) -> None:
    plan = write_plan(tmp_path, """\
        name: interrupted
        seed: 2
        time_scale: 60
        players:
          - {name: sam, acknowledge_at_level: 1, after: 15m}
        oncall: sam
        entries:
          - {scenario: escalation-ladder, at: 0s}
          - {scenario: escalation-ladder, at: 2h}
        """)
    marker, env = marker_env()
    report_dir = tmp_path / "report"
    game = gameday_process(plan, report_dir, env)
    drain = Drain(game.stderr)
    try:
        assert drain.wait_for("injected finding", timeout=120), drain.text()
        assert len(processes_with_marker(marker)) >= 3  # the CLI, its emulators and responder processes
        game.send_signal(signal.SIGINT)
        assert game.wait(timeout=60) == 130, drain.text()
    finally:
        if game.poll() is None:
            game.kill()
    assert_nothing_left(marker)
    stderr = drain.text()
    assert "interrupted" in stderr and "Traceback" not in stderr
    report = after_action(report_dir)
    assert report["interrupted"] is True and report["verdict"] == "fail"
    seen, never = report["findings"]
    assert seen["finding_id"] and seen["injected_seconds"] is not None and seen["cut_short"] is True
    assert seen["steps"] and seen["outcome"] != "not injected"
    assert never["outcome"] == "not injected" and never["finding_id"] is None and never["injected_seconds"] is None
    assert "**Interrupted**" in (report_dir / "gameday.md").read_text()
    assert len(json.loads((report_dir / "report.json").read_text())["scenarios"]) == 1
    assert not (report_dir / STATE_FILE).exists()
