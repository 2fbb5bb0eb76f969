"""Timeline and journal excerpt data: computed from the journal, invocations and verdicts a run already has."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest
from report_samples import (
    FINDING,
    INJECTED,
    INSTANCE,
    RESPONDER_KEY,
    SECRETS,
    TIME_SCALE,
    failing_result,
    passing_result,
    sample_invocations,
    sample_journal,
    sample_steps,
)

from simulator.gateway.journal import Journal, JournalEntry
from simulator.reports import ScenarioResult
from simulator.reports.svg_timeline import MIN_TICK_GAP, Axis
from simulator.reports.timeline import build_timeline, journal_excerpt, merge_reasons
from simulator.scenario import load_scenario
from simulator.verdicts import Invariant, StepVerdict


def test_events_are_placed_in_runbook_time_from_injection() -> None:
    timeline = failing_result().timeline
    assert timeline is not None and timeline.injection_exact
    assert [(e.label, e.at_seconds) for e in timeline.of_kind("injection")] == [(f"inject {FINDING['type']}", 0.0)]
    (invocation,) = timeline.of_kind("invocation")
    assert invocation.at_seconds == pytest.approx(0.05 * TIME_SCALE)
    assert invocation.end_seconds == pytest.approx(17.5 * TIME_SCALE)
    assert invocation.detail == "error"
    assert [(e.level, e.at_seconds) for e in timeline.of_kind("page")] == [(1, pytest.approx(17.0 * TIME_SCALE))]
    assert [e.at_seconds for e in timeline.of_kind("fault")] == [pytest.approx(0.5 * TIME_SCALE)]
    assert [e.label for e in timeline.of_kind("api_error")] == ["lambda:UpdateFunctionConfiguration: AccessDenied"]
    assert len(timeline.of_kind("call")) == 8


def test_steps_and_escalation_levels_carry_their_markers() -> None:
    timeline = failing_result().timeline
    assert timeline is not None
    assert [(m.step_id, m.sla_seconds, m.verdict) for m in timeline.steps] == [
        ("notify", 300.0, "met"), ("quarantine", 900.0, "late"), ("revoke-credentials", 900.0, "missing"),
        ("snapshot", 1800.0, "met"), ("stop", 3600.0, "missing")]
    assert [(m.level, m.after_seconds) for m in timeline.escalation] == [(1, 0.0), (2, 900.0), (3, 3600.0)]
    assert timeline.observed_until_seconds == pytest.approx(90.0 * TIME_SCALE)
    assert timeline.horizon_seconds > 90.0 * TIME_SCALE


def test_without_the_injection_moment_the_first_delivery_stands_in() -> None:
    timeline = build_timeline(scenario=load_scenario("crypto"), steps=sample_steps(), entries=[],
                              invocations=sample_invocations(), injected_mono=None, time_scale=TIME_SCALE)
    assert timeline is not None and not timeline.injection_exact
    (invocation,) = timeline.of_kind("invocation")
    assert invocation.at_seconds == pytest.approx((0.05 - 0.01) * TIME_SCALE)
    assert build_timeline(scenario=load_scenario("crypto"), steps=sample_steps(), entries=[], invocations=[],
                          injected_mono=None, time_scale=TIME_SCALE) is None


def test_a_page_needs_a_level_on_the_escalation_topic() -> None:
    journal = Journal()
    for topic in ("gdsim-run-ir-oncall", "gdsim-run-pager"):
        journal.append(JournalEntry(
            seq=0, mono=INJECTED + 1, mono_start=INJECTED, wall=0.0, service="sns", operation="Publish",
            region="us-east-1", caller=RESPONDER_KEY, resource_ids=(), status=200, error_code=None, fault=None,
            mutating=True, params={"TopicArn": f"arn:aws:sns:us-east-1:123456789012:{topic}",
                                   "Message": json.dumps({"level": 2, "finding_id": "x"})}))
    timeline = build_timeline(scenario=load_scenario("crypto"), steps=[], entries=journal.entries(), invocations=[],
                              injected_mono=INJECTED, time_scale=1.0)
    assert timeline is not None
    assert [e.level for e in timeline.of_kind("page")] == [2]


def test_the_excerpt_picks_calls_around_each_miss_with_reasons() -> None:
    lines = {line.seq: line for line in failing_result().journal_excerpt}
    assert "fault: throttle" in lines[3].reasons
    assert "error: AccessDenied" in lines[4].reasons
    assert "dated late step: quarantine" in lines[5].reasons
    assert "invariant broken: blast_radius" in lines[6].reasons
    assert lines[5].at_seconds == pytest.approx(16.0 * TIME_SCALE)
    assert lines[5].caller == "responder"
    text = json.dumps([line.params for line in lines.values()])
    for secret in SECRETS:
        assert secret not in text


def test_a_missing_step_shows_the_attempts_at_it() -> None:
    journal = sample_journal()
    journal.append(JournalEntry(seq=0, mono=INJECTED + 20, mono_start=INJECTED + 19.9, wall=0.0, service="ec2",
                                operation="StopInstances", region="us-east-1", caller=RESPONDER_KEY,
                                resource_ids=(INSTANCE,), params={"InstanceIds": [INSTANCE]}, status=400,
                                error_code="IncorrectInstanceState", fault=None, mutating=True))
    lines = journal_excerpt(steps=sample_steps(), invariants=[], entries=journal.entries(), injected_mono=INJECTED,
                            time_scale=TIME_SCALE)
    stop = next(line for line in lines if line.operation == "StopInstances")
    assert stop.reasons == ("error: IncorrectInstanceState", "attempt at missing step: stop")


def test_nothing_missed_means_no_excerpt() -> None:
    assert passing_result().journal_excerpt == []
    met = [StepVerdict("notify", 300.0, 10.0, 0.1, "met")]
    journal = sample_journal()
    ok_entries = [entry for entry in journal.entries() if entry.ok]
    assert journal_excerpt(steps=met, invariants=[Invariant("x", True)], entries=ok_entries,
                           injected_mono=INJECTED, time_scale=TIME_SCALE) == []


def test_reasons_of_one_kind_are_merged() -> None:
    assert merge_reasons(["near late step: a", "fault: throttle", "near late step: b", "near late step: a",
                          "last calls of the run"]) == ("near late step: a, b", "fault: throttle",
                                                        "last calls of the run")


def test_the_axis_is_monotonic_and_its_ticks_do_not_crowd() -> None:
    axis = Axis(5670.0)
    xs = [axis.x(t) for t in (0, 1, 10, 60, 300, 900, 3600, 5670)]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert axis.x(0) == axis.left and axis.x(5670) == pytest.approx(axis.right)
    ticks = [axis.x(t) for t in axis.ticks()]
    assert all(b - a >= MIN_TICK_GAP for a, b in pairwise(ticks))
    assert axis.ticks()[-1] == 3600


def test_a_timeline_that_cannot_be_built_is_a_harness_error_not_a_lost_result() -> None:
    journal = sample_journal()
    journal.append(JournalEntry(seq=0, mono=INJECTED + 1, mono_start=INJECTED, wall=0.0, service="sns",
                                operation="Publish", region="us-east-1", caller=RESPONDER_KEY, resource_ids=(),
                                params=None, status=200, error_code=None, fault=None,  # type: ignore[arg-type]
                                mutating=True))
    result = ScenarioResult.build(scenario=load_scenario("crypto"), findings=[FINDING], steps=sample_steps(),
                                  invariants=[], journal=journal, time_scale=TIME_SCALE, injected_mono=INJECTED)
    assert result.timeline is None and result.journal_excerpt == []
    assert [e.split(":")[0] for e in result.harness_errors] == ["building the report timeline failed"]
    assert [step.verdict for step in result.steps] == ["met", "late", "missing", "met", "missing"]
