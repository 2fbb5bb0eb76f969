"""The game day's schedule: the same plan and seed always give the same times and findings; random times fall
within the window; each finding gets its own seed and the plan's on-call."""

from __future__ import annotations

import textwrap
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.gameday import build_schedule, load_plan, render_schedule
from simulator.gameday.clock import GameClock

PLAN = """\
name: drill
seed: 42
time_scale: 120
window: 30m
players:
  - {name: sam, acknowledge_at_level: 1, after: 15m}
  - {name: pat, acknowledge_at_level: never}
  - {name: you, human: true}
oncall: sam
entries:
  - {scenario: escalation-ladder, at: random, count: 3}
  - {scenario: crypto, at: 2m}
  - {scenario: crypto, at: random, oncall: you, chaos: duplicate}
  - {scenario: escalation-ladder, at: 20m, oncall: pat}
"""


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("plan") / "drill.yaml"
    path.write_text(textwrap.dedent(PLAN))
    return load_plan(path)


def signature(schedule) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [(item.key, item.scenario.id, item.at_seconds, item.seed, item.player.name if item.player else None,
             item.chaos) for item in schedule]


def test_the_same_plan_and_seed_give_the_same_schedule(loaded) -> None:  # type: ignore[no-untyped-def]
    assert signature(build_schedule(loaded, 42)) == signature(build_schedule(loaded, 42))


def test_another_seed_gives_other_random_times_and_findings(loaded) -> None:  # type: ignore[no-untyped-def]
    first, second = build_schedule(loaded, 42), build_schedule(loaded, 43)
    assert [item.at_seconds for item in first if item.random] != [item.at_seconds for item in second if item.random]
    assert {item.seed for item in first}.isdisjoint({item.seed for item in second})
    # fixed times stay where the plan put them
    assert sorted(item.at_seconds for item in first if not item.random) == [120.0, 1200.0]
    assert sorted(item.at_seconds for item in second if not item.random) == [120.0, 1200.0]


def test_the_schedule_is_in_time_order_with_keys_and_a_seed_per_finding(loaded) -> None:  # type: ignore[no-untyped-def]
    schedule = build_schedule(loaded, 42)
    assert [item.key for item in schedule] == ["F1", "F2", "F3", "F4", "F5", "F6"]
    times = [item.at_seconds for item in schedule]
    assert times == sorted(times)
    assert len({item.seed for item in schedule}) == 6  # two findings of one scenario still differ
    assert all(0 <= item.at_seconds <= 1800 and item.at_seconds == int(item.at_seconds)
               for item in schedule if item.random)


def test_the_plans_players_replace_the_scenarios_oncall(loaded) -> None:  # type: ignore[no-untyped-def]
    schedule = build_schedule(loaded, 42)
    by_player = {item.player.name: item for item in schedule if item.player is not None}
    sam, pat, you = by_player["sam"], by_player["pat"], by_player["you"]
    assert sam.scenario.oncall is not None and sam.scenario.oncall.ack_level == 1
    assert sam.scenario.oncall.after_seconds == 900
    assert pat.scenario.oncall is not None and pat.scenario.oncall.ack_level is None  # never
    assert you.human and you.scenario.oncall is None  # nobody simulated: a person runs `simulate ack`
    assert you.chaos == "duplicate"
    # the scenario as loaded is untouched (escalation-ladder's own on-call acknowledges level 2)
    assert loaded.scenarios[0].oncall is not None and loaded.scenarios[0].oncall.ack_level == 2
    assert sam.scenario.source_path == loaded.scenarios[0].source_path


def test_the_printed_schedule_names_every_finding_and_the_replay(loaded) -> None:  # type: ignore[no-untyped-def]
    schedule = build_schedule(loaded, 42)
    text = render_schedule(loaded, schedule, seed=42, time_scale=120)
    lines = text.splitlines()
    assert len(lines) == 7
    assert "--seed 42" in lines[0] and "6 finding(s)" in lines[0]
    assert any("+2m00s" in line and "fixed" in line and "crypto" in line for line in lines)
    assert any("a person: `simulate ack`" in line and "chaos: duplicate" in line for line in lines)


@settings(max_examples=30, derandomize=True, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**31 - 1))
def test_any_seed_gives_a_reproducible_schedule_within_the_window(loaded, seed: int) -> None:  # type: ignore[no-untyped-def]
    schedule = build_schedule(loaded, seed)
    assert signature(schedule) == signature(build_schedule(loaded, seed))
    assert all(0 <= item.at_seconds <= 1800 for item in schedule)
    assert [item.at_seconds for item in schedule] == sorted(item.at_seconds for item in schedule)


def test_the_clock_starts_when_every_finding_is_ready_or_withdrawn() -> None:
    cancel = threading.Event()
    clock = GameClock(3, time_scale=600, cancel=cancel)
    clock.ready()
    clock.withdraw()
    assert not clock.started and clock.runbook_now() is None
    clock.ready()
    assert clock.started
    assert clock.wait_until(60)  # 60 runbook seconds are 0.1 s at 600x
    assert clock.runbook_now() >= 60


def test_cancelling_ends_every_wait_for_the_clock() -> None:
    cancel = threading.Event()
    clock = GameClock(2, time_scale=1, cancel=cancel)
    outcomes: list[bool] = []
    waiting = threading.Thread(target=lambda: outcomes.append(clock.wait_until(3600)))
    waiting.start()
    time.sleep(0.05)
    cancel.set()
    waiting.join(timeout=5)
    assert outcomes == [False]
    clock.ready()
    clock.ready()
    assert clock.wait_until(3600) is False  # started, but cancelled: nothing more goes in


def test_a_plan_without_random_times_needs_no_window(tmp_path: Path) -> None:
    path = tmp_path / "fixed.yaml"
    path.write_text("name: fixed\nseed: 1\nentries:\n  - {scenario: crypto, at: 90s}\n  - {scenario: crypto, at: 0s}\n")
    schedule = build_schedule(load_plan(path), 1)
    assert [(item.key, item.at_seconds) for item in schedule] == [("F1", 0.0), ("F2", 90.0)]
    assert all(item.player is None and item.scenario.oncall is None for item in schedule)
