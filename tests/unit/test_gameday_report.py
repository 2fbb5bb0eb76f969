"""The after-action report: each finding's outcome (within SLA, escalated per the runbook, missed, error, not
injected), its steps against their SLAs, who acknowledged and when against the escalation path, in JSON,
Markdown, HTML and the terminal; exit codes 0, 1 and 130."""

from __future__ import annotations

import json
import textwrap
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from simulator.gameday import build_report, build_schedule, load_plan
from simulator.gameday.clock import GameClock
from simulator.gameday.live import NOT_INJECTED, Tracker
from simulator.gameday.render import render_markdown, render_terminal, write_after_action
from simulator.gameday.report import ERROR, ESCALATED, MISSED, WITHIN_SLA, AfterActionReport
from simulator.reports import ScenarioResult
from simulator.verdicts import Invariant, StepVerdict

PLAN = """\
name: drill
seed: 11
time_scale: 60
players:
  - {name: sam, acknowledge_at_level: 1, after: 15m}
oncall: sam
entries:
  - {scenario: escalation-ladder, at: 0s}
  - {scenario: crypto, at: 1m}
  - {scenario: crypto, at: 2m}
  - {scenario: escalation-ladder, at: 3m}
  - {scenario: crypto, at: 4m}
"""
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def result(scenario, verdicts: dict[str, tuple[str, float | None]], *, broken: bool = False) -> ScenarioResult:  # type: ignore[no-untyped-def]
    steps = [StepVerdict(id=step.id, sla_seconds=step.within_seconds, observed_seconds=verdicts[step.id][1],
                         observed_wall_seconds=None, verdict=verdicts[step.id][0], title=step.title,
                         kind=step.expect.kind, sla_text=step.within_text) for step in scenario.steps]
    invariants = [Invariant("blast_radius", not broken, "touched neighbour" if broken else "ok")]
    return ScenarioResult(id=scenario.id, title=scenario.title, finding_types=list(scenario.finding_types),
                          finding_ids=[], steps=steps, invariants=invariants, time_scale=60, seed=1,
                          repro=f"simulate --scenario {scenario.id} --seed 1")


@pytest.fixture
def tracker(tmp_path: Path) -> Tracker:
    path = tmp_path / "drill.yaml"
    path.write_text(textwrap.dedent(PLAN))
    schedule = build_schedule(load_plan(path), 11)
    clock = GameClock(len(schedule), 60, threading.Event())
    tracker = Tracker(schedule, clock, 60)
    for index, live in enumerate(tracker):
        env = SimpleNamespace(run_id=f"run-{index}", escalation={"topic_arn": "arn:topic", "levels": []})
        tracker.prepared(live.key, run_id=env.run_id, sandbox=None, env=env, journal=None,
                         findings=[{"id": f"{index:032x}", "type": live.scenario.finding_types[0]}])
        clock.ready()
    return tracker


def play_out(tracker: Tracker) -> dict[str, str]:
    """F1 ladder acknowledged late, F2 crypto within SLA, F3 crypto escalated, F4 ladder errored, F5 missed."""
    f1, f2, f3, f4, f5 = (tracker.get(f"F{number}") for number in range(1, 6))
    for live in (f1, f2, f3, f5):
        tracker.injected(live.key)
    f1.pages.clear()
    tracker.page(f1.key, 1, None)
    tracker.page(f1.key, 2, None)
    f1.pages[:] = [type(page)(page.level, page.contact, seconds)
                   for page, seconds in zip(f1.pages, (3.0, 601.0), strict=True)]
    tracker.acknowledged(f1.key, level=1, contact="ir-oncall-primary", acknowledged_at="2026-11-29T10:15:00Z",
                         wall=None)
    f1.ack = type(f1.ack)(f1.ack.by, f1.ack.contact, 1, 900.0, f1.ack.acknowledged_at)  # type: ignore[misc,union-attr]
    ladder, crypto = f1.scenario, f2.scenario
    tracker.finished(f1.key, result=result(ladder, {"page-oncall": ("met", 3.0), "page-lead": ("met", 601.0),
                                                    "spare-head-of-security": ("met", 1201.0)}))
    met = {step.id: ("met", 60.0 * (number + 1)) for number, step in enumerate(crypto.steps)}
    tracker.finished(f2.key, result=result(crypto, met))
    tracker.page(f3.key, 1, None)
    tracker.finished(f3.key, result=result(crypto, {**met, "snapshot": ("missing", None)}))
    tracker.finished(f4.key, error=f"provisioning failed: key {SECRET} refused")
    tracker.finished(f5.key, result=result(crypto, met, broken=True))
    return {"F1": WITHIN_SLA, "F2": WITHIN_SLA, "F3": ESCALATED, "F4": ERROR, "F5": MISSED}


def report_of(tracker: Tracker, *, interrupted: bool = False) -> AfterActionReport:
    return build_report(tracker, name="drill", description="a drill", plan="drill.yaml", run_id="run",
                        seed=11, time_scale=60, window_seconds=None, interrupted=interrupted,
                        started_at="2026-11-29T10:00:00+00:00", wall_seconds=12.5, harness_errors=[])


def test_each_finding_gets_its_outcome(tracker: Tracker) -> None:
    expected = play_out(tracker)
    report = report_of(tracker)
    assert {finding.key: finding.outcome for finding in report.findings} == expected
    assert report.handled == 3 and report.verdict == "fail" and report.exit_code == 1


def test_a_game_day_where_every_finding_is_handled_exits_0(tracker: Tracker) -> None:
    play_out(tracker)
    report = report_of(tracker)
    report.findings = [finding for finding in report.findings if finding.handled]
    assert report.verdict == "pass" and report.exit_code == 0


def test_an_interrupted_game_day_exits_130_and_says_what_never_went_in(tracker: Tracker) -> None:
    first = tracker.get("F1")
    tracker.injected(first.key)
    tracker.finished(first.key, result=result(first.scenario, {"page-oncall": ("met", 3.0),
                                                               "page-lead": ("missing", None),
                                                               "spare-head-of-security": ("missing", None)}))
    for live in tracker:
        if not live.finished:
            tracker.finished(live.key, status=NOT_INJECTED)
    report = report_of(tracker, interrupted=True)
    assert report.exit_code == 130
    assert report.finding("F1").cut_short and report.finding("F1").outcome == MISSED
    assert [finding.outcome for finding in report.findings[1:]] == [NOT_INJECTED] * 4
    assert not any(finding.cut_short for finding in report.findings[1:])
    text = render_markdown(report)
    assert "**Interrupted**" in text and "not injected" in text


def test_the_acknowledgement_is_judged_against_the_escalation_path(tracker: Tracker) -> None:
    play_out(tracker)
    f1 = report_of(tracker).finding("F1")
    assert f1.levels_paged == [1, 2] and f1.levels_not_paged == [3]
    assert [(page.level, page.contact, page.due_seconds) for page in f1.pages] == [
        (1, "ir-oncall-primary", 0.0), (2, "ir-lead", 600.0)]
    ack = f1.acknowledgement
    assert ack is not None and ack.by == "sam (ir-oncall-primary)" and ack.level == 1
    assert ack.next_level == 2 and ack.next_level_due_seconds == 600.0 and ack.before_next_level is False
    assert f1.detect_seconds == 3.0
    assert f1.step("page-lead").margin_seconds == pytest.approx(-1.0 + 300.0)  # 15m SLA, paged at 10m01s


def test_the_report_files_say_it_all_without_leaking_secrets(tracker: Tracker, tmp_path: Path) -> None:
    play_out(tracker)
    report = report_of(tracker)
    paths = write_after_action(report, tmp_path, with_run_report=True)
    data = json.loads(paths["json"].read_text())
    assert data["verdict"] == "fail" and data["handled"] == 3 and data["run_report"] == "report.json"
    f1 = data["findings"][0]
    assert f1["levels_paged"] == [1, 2] and f1["levels_not_paged"] == [3]
    assert f1["acknowledgement"]["by"] == "sam (ir-oncall-primary)"
    assert f1["acknowledgement"]["before_next_level"] is False
    assert {step["id"]: step["verdict"] for step in f1["steps"]}["page-lead"] == "met"
    markdown = paths["markdown"].read_text()
    assert "| F1 | escalation-ladder |" in markdown
    assert "after level 2 was due (10m00s): late" in markdown
    assert "level 2 (ir-lead) paged at 10m01s (runbook: at 10m00s)" in markdown
    assert "[report.md](report.md)" in markdown
    page = paths["html"].read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http" not in page.replace(
        'href="report.html"', "")
    assert 'id="F3"' in page and "escalated" in page
    for text in (markdown, page, paths["json"].read_text(), render_terminal(report)):
        assert SECRET not in text


def test_the_terminal_summary_lists_each_finding_and_why_it_failed(tracker: Tracker) -> None:
    play_out(tracker)
    text = render_terminal(report_of(tracker))
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["#", "scenario", "in"]
    assert "FAIL game day drill: 3 of 5 finding(s) handled" in text
    assert "F4 escalation-ladder: error: provisioning failed" in text
    assert "repro: simulate --scenario crypto --seed 1" in text
