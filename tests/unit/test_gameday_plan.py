"""Game-day plans: a good plan loads with its scenarios; a bad one reports every problem at once, each with its
file, line, field and fix; `simulate gameday --check` validates without starting anything."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from simulator import cli, paths
from simulator.gameday import PlanError, load_plan
from simulator.gameday.plan import MAX_FINDINGS

GAMEDAYS = paths.PROJECT_ROOT / "gamedays"

GOOD = """\
name: drill
description: a morning drill
seed: 42
time_scale: 120
window: 10m
players:
  - {name: sam, acknowledge_at_level: 1, after: 15m}
  - {name: you, human: true}
oncall: sam
entries:
  - {scenario: escalation-ladder, at: random, count: 2}
  - {scenario: crypto, at: 2m, oncall: you, chaos: duplicate}
"""


def write(tmp_path: Path, text: str, name: str = "plan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems(tmp_path: Path, text: str, **overrides: object) -> list[str]:
    with pytest.raises(PlanError) as caught:
        load_plan(write(tmp_path, text), **overrides)  # type: ignore[arg-type]
    return [line.replace(f"{tmp_path}/", "") for line in caught.value.lines]  # as if run from the plan's folder


def test_a_good_plan_loads_with_each_entrys_scenario(tmp_path: Path) -> None:
    loaded = load_plan(write(tmp_path, GOOD))
    plan = loaded.plan
    assert plan.name == "drill" and plan.seed == 42 and plan.time_scale == 120
    assert plan.window_seconds == 600
    assert [scenario.id for scenario in loaded.scenarios] == ["escalation-ladder", "crypto"]
    assert plan.finding_count == 3
    assert plan.player_for(plan.entries[0]).name == "sam"  # the plan's default
    assert plan.player_for(plan.entries[1]).human  # the entry's own
    assert plan.entries[1].at_seconds == 120 and not plan.entries[1].random
    assert plan.chaos_for(plan.entries[0]) is None and plan.chaos_for(plan.entries[1]) == "duplicate"


@pytest.mark.parametrize("plan_file", sorted(GAMEDAYS.glob("*.yaml")), ids=lambda path: path.stem)
def test_every_shipped_plan_is_valid(plan_file: Path) -> None:
    assert load_plan(plan_file).plan.name == plan_file.stem


def test_the_crypto_drill_has_five_findings_at_random_times_and_a_late_simulated_human() -> None:
    plan = load_plan(GAMEDAYS / "crypto-drill.yaml").plan
    assert plan.finding_count == 5 and all(entry.random for entry in plan.entries)
    player = plan.player_for(plan.entries[0])
    assert player is not None and not player.human and player.ack_level == 1
    assert player.after_seconds > 600  # later than the ladder's level 2


def test_every_problem_is_reported_at_once_with_line_field_and_fix(tmp_path: Path) -> None:
    lines = problems(tmp_path, """\
        name: drill
        seed: -3
        target: aws
        windo: 10m
        players:
          - {name: sam, acknowledge_at_level: 1}
          - {name: you, human: true, after: 5m}
          - {name: sam, acknowledge_at_level: 2}
          - {name: bob}
        oncall: samm
        entries:
          - {scenario: escalation-ladder, at: random}
          - {scenario: no-such-runbook, at: soon, chaos: nope}
          - {scenario: crypto, at: 5, oncall: zed, colour: red}
        """)
    text = "\n".join(lines)
    expected = [
        "plan.yaml:2: seed: -3 is out of range",
        "plan.yaml:3: target: target 'aws' is not available for game days",
        "plan.yaml:4: windo: unknown field (did you mean window?",
        "plan.yaml:7: players[1]: a human player acknowledges with `simulate ack`",
        "plan.yaml:8: players[2].name: player 'sam' is listed twice",
        "plan.yaml:9: players[3]: a simulated player needs acknowledge_at_level",
        "plan.yaml:10: oncall: no player named 'samm'",
        "plan.yaml:12: entries[0].at: random times need the plan's window",
        "plan.yaml:13: entries[1].at: 'soon' is not a duration",
        "plan.yaml:13: entries[1].scenario: unknown scenario 'no-such-runbook'",
        "plan.yaml:13: entries[1].chaos: unknown chaos profile 'nope'",
        "plan.yaml:14: entries[2].at: 5 has no unit",
        "plan.yaml:14: entries[2].colour: unknown field",
        "plan.yaml:14: entries[2].oncall: no player named 'zed'",
    ]
    for fragment in expected:
        assert fragment in text, f"{fragment!r} not reported in:\n{text}"
    assert len(lines) == len(expected)
    assert "did you mean sam?" in text  # a near miss names the player meant
    assert all("(" in line for line in lines)  # every line says how to fix it


def test_a_target_other_than_moto_is_refused(tmp_path: Path) -> None:
    lines = problems(tmp_path, GOOD.replace("seed: 42", "seed: 42\ntarget: localstack"))
    assert lines == ["plan.yaml:4: target: target 'localstack' is not available for game days in this version "
                     "(use target: moto)"]
    lines = problems(tmp_path, GOOD.replace("seed: 42", "seed: 42\ntarget: azure"))
    assert "'azure' is not a target" in lines[0]


def test_a_players_level_must_be_on_the_scenarios_escalation_path(tmp_path: Path) -> None:
    lines = problems(tmp_path, GOOD.replace("acknowledge_at_level: 1", "acknowledge_at_level: 4"))
    assert len(lines) == 1
    assert lines[0].startswith("plan.yaml:9: oncall: player 'sam' acknowledges level 4, which scenario "
                               "'escalation-ladder' does not have (levels: 1, 2, 3)")


def test_the_time_scale_must_suit_every_escalation_ladder(tmp_path: Path) -> None:
    lines = problems(tmp_path, GOOD.replace("time_scale: 120", "time_scale: 250"))
    assert len(lines) == 1 and lines[0].startswith("plan.yaml:4: time_scale: 250 does not suit escalation-ladder")
    # a command-line override is checked the same way
    assert "does not suit escalation-ladder" in problems(tmp_path, GOOD, time_scale=250.0)[0]
    assert load_plan(write(tmp_path, GOOD), time_scale=60.0).plan.time_scale == 60.0


def test_too_many_findings_are_refused(tmp_path: Path) -> None:
    entries = "\n".join("  - {scenario: crypto, at: 1m, count: 10}" for _ in range(3))
    lines = problems(tmp_path, f"name: big\nentries:\n{entries}\n")
    assert lines == [f"plan.yaml:2: entries: the plan injects 30 findings, each in a sandbox of its own "
                     f"(keep a game day to at most {MAX_FINDINGS} findings)"]


def test_problems_inside_a_scenario_file_the_plan_names_are_listed_with_their_own_location(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("id: broken\ntitle: x\n")
    lines = problems(tmp_path, "name: drill\nentries:\n  - {scenario: broken.yaml, at: 0s}\n")
    assert lines[0].startswith("plan.yaml:3: entries[0].scenario: scenario 'broken.yaml' has")
    assert any(line.startswith("broken.yaml:") and "missing" in line for line in lines[1:])


def test_a_scenario_file_is_found_beside_the_plan(tmp_path: Path) -> None:
    source = (paths.SCENARIOS_DIR / "crypto.yaml").read_text()
    folder = tmp_path / "drills"
    folder.mkdir()
    (folder / "my-crypto.yaml").write_text(source)
    loaded = load_plan(write(folder, "name: drill\nentries:\n  - {scenario: my-crypto.yaml, at: 0s}\n"))
    assert loaded.scenarios[0].source_path == (folder / "my-crypto.yaml").resolve()


@pytest.mark.parametrize(("text", "fragment"), [
    ("name: [x", "not valid YAML"),
    ("- a list", "a plan is a mapping of fields"),
    ("name: drill\nname: again\nentries: [{scenario: crypto, at: 0s}]", "key 'name' appears again"),
    ("name: drill\nentries: []", "entries: must not be empty"),
    ("name: drill", "entries: missing (add entries: [{scenario: crypto, at: random}])"),
    ("name: drill\ntime_scale: 0\nentries: [{scenario: crypto, at: 0s}]", "time_scale: 0 is out of range"),
    ("name: drill\nentries: [{at: 0s}]", "entries[0].scenario: missing (add scenario: crypto)"),
])
def test_malformed_plans_are_refused_with_a_located_line(tmp_path: Path, text: str, fragment: str) -> None:
    lines = problems(tmp_path, text)
    assert any(fragment in line for line in lines), lines
    assert all(line.startswith("plan.yaml:") for line in lines)


def test_gameday_check_validates_and_prints_the_schedule_without_starting_anything(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = write(tmp_path, GOOD)
    assert cli.main(["gameday", "--plan", str(plan), "--check"]) == 0
    out = capsys.readouterr().out
    assert "game day drill: 3 finding(s)" in out and "seed 42" in out
    assert out.count("escalation-ladder") == 2 and "nothing was started" in out


def test_gameday_with_a_bad_plan_exits_2_with_every_problem_on_stderr(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = write(tmp_path, GOOD.replace("seed: 42", "seed: x").replace("window: 10m", "window: ten"))
    assert cli.main(["gameday", "--plan", str(plan), "--check"]) == 2
    err = capsys.readouterr().err
    assert "plan.yaml:3: seed:" in err and "plan.yaml:5: window:" in err
    assert "Traceback" not in err


def test_gameday_refuses_a_missing_plan_file_and_bad_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["gameday", "--plan", str(tmp_path / "none.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main(["gameday", "--plan", str(write(tmp_path, GOOD)), "--time-scale", "-1"]) == 2
    assert "--time-scale -1" in capsys.readouterr().err
