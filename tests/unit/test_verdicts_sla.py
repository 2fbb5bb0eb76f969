"""SLA verdicts on constructed observations: the boundaries, runbook time and the scenario's order."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.observers import Observation
from simulator.verdicts import LATE, MET, MISSING, classify, judge_steps, runbook_seconds


@dataclass
class Expect:
    kind: str = "instance_stopped"
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class Step:
    id: str
    within_seconds: float
    within_text: str = ""
    title: str = ""
    expect: Expect = field(default_factory=Expect)


def seen(at: float, source: str = "journal") -> Observation:
    return Observation(met=True, first_poll_mono=at + 0.03, attributed_mono=at, source=source, polls=2,
                       operation="StopInstances")


# Monotonic readings far from zero make float subtraction inexact, as in a long-running process.
INJECTED = 123_456.789


def test_exactly_at_the_sla_is_met_and_one_millisecond_over_is_late() -> None:
    steps = [Step("at", 300, "5m"), Step("over", 300, "5m")]
    scale = 60.0
    observations = {"at": seen(INJECTED + 300 / scale), "over": seen(INJECTED + 300.001 / scale)}
    at, over = judge_steps(steps, observations, INJECTED, scale)
    assert at.verdict == MET
    assert at.observed_seconds == pytest.approx(300.0)
    assert over.verdict == LATE
    assert over.observed_seconds == pytest.approx(300.001)


def test_runbook_time_is_wall_time_times_the_time_scale() -> None:
    (verdict,) = judge_steps([Step("stop", 3600, "1h")], {"stop": seen(INJECTED + 2.5)}, INJECTED, 600.0)
    assert verdict.observed_wall_seconds == pytest.approx(2.5)
    assert verdict.observed_seconds == pytest.approx(1500.0)
    assert verdict.verdict == MET
    assert runbook_seconds(0.25, 4) == 1.0
    with pytest.raises(ValueError):
        runbook_seconds(1.0, 0)


def test_never_observed_is_missing_with_the_observers_reason() -> None:
    unmet = Observation(met=False, polls=40, detail="i-0abc is running")
    missing, absent = judge_steps([Step("stop", 60), Step("notify", 60)], {"stop": unmet}, INJECTED, 1.0)
    assert (missing.verdict, missing.observed_seconds, missing.observed_wall_seconds) == (MISSING, None, None)
    assert missing.detail == "i-0abc is running"
    assert missing.source is None
    assert absent.verdict == MISSING


def test_verdicts_keep_the_scenarios_order_and_describe_the_step() -> None:
    steps = [Step("b", 10, "10s", "Second", Expect("notification_delivered")), Step("a", 10, "10s", "First")]
    verdicts = judge_steps(steps, {"a": seen(INJECTED + 1), "b": seen(INJECTED + 20, "poll")}, INJECTED, 1.0)
    assert [v.id for v in verdicts] == ["b", "a"]
    assert [v.verdict for v in verdicts] == [LATE, MET]
    assert (verdicts[0].title, verdicts[0].kind, verdicts[0].sla_text, verdicts[0].source) == (
        "Second", "notification_delivered", "10s", "poll")
    assert verdicts[1].operation == "StopInstances"


def test_an_effect_dated_before_injection_counts_from_injection() -> None:
    (verdict,) = judge_steps([Step("s", 1)], {"s": seen(INJECTED - 0.5)}, INJECTED, 1.0)
    assert verdict.observed_seconds == 0.0 and verdict.verdict == MET


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    injected=st.floats(min_value=0, max_value=1e7, allow_nan=False),
    sla=st.floats(min_value=0.001, max_value=86_400, allow_nan=False),
    scale=st.sampled_from([1.0, 3.0, 60.0, 100.0, 600.0, 3600.0]),
)
def test_the_boundary_holds_for_any_clock_sla_and_scale(injected: float, sla: float, scale: float) -> None:
    at = judge_steps([Step("s", sla)], {"s": seen(injected + sla / scale)}, injected, scale)[0]
    over = judge_steps([Step("s", sla)], {"s": seen(injected + (sla + 0.001) / scale)}, injected, scale)[0]
    assert at.verdict == MET
    assert over.verdict == LATE


def test_classify() -> None:
    assert classify(None, 10) == MISSING
    assert classify(10.0, 10) == MET
    assert classify(10.0011, 10) == LATE
    assert classify(10.001, 10, time_scale=3600.0) == LATE
