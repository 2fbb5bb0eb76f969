"""Runbook durations: what authors write, and the shortest spelling back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.scenario.durations import format_duration, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90.0), ("5m", 300.0), ("1h", 3600.0), ("1h30m", 5400.0), ("1h 30m", 5400.0),
    ("0s", 0.0), ("0m", 0.0), ("250ms", 0.25), ("1.5m", 90.0), ("2h5m10s", 7510.0), (" 15m ", 900.0),
])
def test_parses_runbook_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5 minutes", "5", "", "m", "30m1h", "5m5m", "-5m", "5d", "1h30", "five m"])
def test_rejects_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (0.25, "250ms"), (45, "45s"), (90, "1m30s"), (300, "5m"), (3600, "1h"), (5400, "1h30m"),
    (3661, "1h1m1s"),
])
def test_formats_the_shortest_spelling(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@settings(max_examples=200, derandomize=True)
@given(st.integers(min_value=0, max_value=7 * 24 * 3600))
def test_formatting_whole_seconds_round_trips(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds
