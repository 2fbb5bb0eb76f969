"""Checks across a plan's fields and into the files it names: players exist, random times have a window,
scenarios and chaos profiles load, a player's level is on the scenario's escalation path, the time scale
suits every escalation ladder.

They read the plan's plain data, so they run even when some fields are malformed (field validation
reports those) and every problem is reported in one go.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.errors import GdsimError, InputError
from simulator.gameday.plan import MAX_FINDINGS, NO_CHAOS, RANDOM
from simulator.scenario import Scenario, ScenarioError, parse_duration
from simulator.scenario.issues import Issue, display_path

TARGETS = ("moto", "localstack", "aws")


@dataclass
class CheckedReferences:
    """What the checks resolved: each entry's scenario (by entry index), and problems found inside the files
    the plan names (already located in those files)."""

    issues: list[Issue] = field(default_factory=list)
    scenarios: dict[int, Scenario] = field(default_factory=dict)
    file_lines: list[str] = field(default_factory=list)


def resolve_relative(text: str, plan_dir: Path) -> str:
    """A file the plan names, relative to the plan's folder when it is there; names stay names."""
    looks_like_path = text.endswith((".yaml", ".yml", ".json", ".py")) or "/" in text or "\\" in text
    if looks_like_path and not Path(text).is_absolute() and (plan_dir / text).exists():
        return str(plan_dir / text)
    return text


def cross_check(data: dict[str, Any], plan_dir: Path, *, time_scale: float | None) -> CheckedReferences:
    checked = CheckedReferences()
    players = _players(data, checked)
    _target(data, checked)
    _oncall(data, players, checked)
    _window(data, checked)
    _size(data, checked)
    for index, entry in _entries(data):
        _scenario(index, entry, plan_dir, checked)
    _chaos(data, plan_dir, checked)
    _levels(data, players, checked)
    _responders(data, plan_dir, checked, time_scale)
    return checked


# ---------------------------------------------------------------- helpers


def _entries(data: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    entries = data.get("entries")
    if isinstance(entries, list):
        for index, entry in enumerate(entries):
            if isinstance(entry, dict):
                yield index, entry


def _players(data: dict[str, Any], checked: CheckedReferences) -> dict[str, dict[str, Any]]:
    players: dict[str, dict[str, Any]] = {}
    found = data.get("players")
    for index, player in enumerate(found if isinstance(found, list) else []):
        if not isinstance(player, dict) or not isinstance(player.get("name"), str):
            continue
        name = player["name"]
        if name in players:
            checked.issues.append(Issue(("players", index, "name"), f"player {name!r} is listed twice",
                                        "give every player a name of their own"))
        players.setdefault(name, player)
    return players


def _target(data: dict[str, Any], checked: CheckedReferences) -> None:
    target = data.get("target", "moto")
    if target == "moto" or not isinstance(target, str):
        return
    if target in TARGETS:
        message = f"target {target!r} is not available for game days in this version"
    else:
        message = f"{target!r} is not a target (targets: {', '.join(TARGETS)})"
    checked.issues.append(Issue(("target",), message, "use target: moto"))


def _oncall(data: dict[str, Any], players: dict[str, dict[str, Any]], checked: CheckedReferences) -> None:
    known = ", ".join(players) or "none"
    references: list[tuple[tuple[str | int, ...], Any]] = [(("oncall",), data.get("oncall"))]
    references += [(("entries", index, "oncall"), entry.get("oncall")) for index, entry in _entries(data)]
    for path, name in references:
        if isinstance(name, str) and name not in players:
            close = difflib.get_close_matches(name, list(players), n=1)
            hint = f"did you mean {close[0]}?" if close else f"add a player named {name} under players"
            checked.issues.append(Issue(path, f"no player named {name!r} (players: {known})", hint))


def _is_random(entry: dict[str, Any]) -> bool:
    at = entry.get("at", RANDOM)
    return isinstance(at, str) and at.strip().lower() == RANDOM


def _window(data: dict[str, Any], checked: CheckedReferences) -> None:
    random_entries = [index for index, entry in _entries(data) if _is_random(entry)]
    window = data.get("window")
    if isinstance(window, str):
        try:
            empty = parse_duration(window) == 0
        except ValueError:
            empty = False  # the field's own check says what is wrong with it
        if empty:
            checked.issues.append(Issue(("window",), "the window must be longer than 0s", "write window: 30m"))
    if not random_entries or "window" in data:
        return
    which = ", ".join(f"entries[{index}]" for index in random_entries)
    checked.issues.append(Issue(
        ("entries", random_entries[0], "at"),
        f"random times need the plan's window, which is missing ({which} go in at random)",
        "add window: 30m (random times fall within it), or give each entry at: 5m"))


def _size(data: dict[str, Any], checked: CheckedReferences) -> None:
    total = 0
    for _, entry in _entries(data):
        count = entry.get("count", 1)
        total += count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 1
    if total > MAX_FINDINGS:
        checked.issues.append(Issue(("entries",), f"the plan injects {total} findings, each in a sandbox of its own",
                                    f"keep a game day to at most {MAX_FINDINGS} findings"))


def _scenario(index: int, entry: dict[str, Any], plan_dir: Path, checked: CheckedReferences) -> None:
    from simulator.scenario import load_scenario, scenario_names

    name = entry.get("scenario")
    if not isinstance(name, str) or not name:
        return
    path = ("entries", index, "scenario")
    try:
        checked.scenarios[index] = load_scenario(resolve_relative(name, plan_dir))
    except ScenarioError as exc:
        checked.issues.append(Issue(path, f"scenario {name!r} has {len(exc.lines)} problem(s), listed below",
                                    "fix the scenario file"))
        checked.file_lines += [line for line in exc.lines if line not in checked.file_lines]
    except InputError as exc:
        if "/" in name or name.endswith((".yaml", ".yml")):
            checked.issues.append(Issue(path, f"scenario file {name!r} does not exist",
                                        f"give a path relative to the plan ({display_path(plan_dir)}) "
                                        "or a scenario name"))
            return
        close = difflib.get_close_matches(name, scenario_names(), n=1)
        hint = f"did you mean {close[0]}?" if close else "`simulate list scenarios` shows them"
        checked.issues.append(Issue(path, exc.message if exc.message else str(exc), hint))


def _chaos(data: dict[str, Any], plan_dir: Path, checked: CheckedReferences) -> None:
    from simulator.chaos import load_profile

    references: list[tuple[tuple[str | int, ...], Any]] = [(("chaos",), data.get("chaos"))]
    references += [(("entries", index, "chaos"), entry.get("chaos")) for index, entry in _entries(data)]
    for path, name in references:
        if not isinstance(name, str) or name.strip().lower() == NO_CHAOS:
            continue
        try:
            load_profile(resolve_relative(name, plan_dir))
        except InputError as exc:
            lines = getattr(exc, "lines", None)
            if lines:
                checked.issues.append(Issue(path, f"chaos profile {name!r} has {len(lines)} problem(s), listed below",
                                            "fix the profile file"))
                checked.file_lines += [line for line in lines if line not in checked.file_lines]
            else:
                checked.issues.append(Issue(path, exc.message, exc.fix or "`simulate list chaos` shows the profiles"))


def _levels(data: dict[str, Any], players: dict[str, dict[str, Any]], checked: CheckedReferences) -> None:
    """A simulated player's level must be on the escalation path of every scenario they play."""
    default = data.get("oncall")
    for index, entry in _entries(data):
        scenario = checked.scenarios.get(index)
        name = entry.get("oncall", default)
        player = players.get(name) if isinstance(name, str) else None
        if scenario is None or player is None:
            continue
        level = player.get("acknowledge_at_level")
        levels = {item.level for item in scenario.escalation.levels}
        if isinstance(level, int) and not isinstance(level, bool) and level not in levels:
            path = ("entries", index, "oncall") if "oncall" in entry else ("oncall",)
            checked.issues.append(Issue(
                path, f"player {name!r} acknowledges level {level}, which scenario {scenario.id!r} does not have "
                      f"(levels: {', '.join(map(str, sorted(levels)))})",
                "choose a player whose level is on the scenario's escalation path"))


def _responders(data: dict[str, Any], plan_dir: Path, checked: CheckedReferences,
                time_scale: float | None) -> None:
    """The responder each entry tests exists, and an escalation ladder's whole-second waits suit the time scale."""
    from simulator.commands.run import check_responder
    from simulator.stepfunctions import is_state_machine_responder, ladder_levels

    scale = time_scale if time_scale is not None else data.get("time_scale", 60.0)
    for index, entry in _entries(data):
        responder = entry.get("responder")
        if isinstance(responder, str):
            responder = resolve_relative(responder, plan_dir)
            try:
                check_responder(responder)
            except GdsimError as exc:
                checked.issues.append(Issue(("entries", index, "responder"),
                                            str(exc).removeprefix(f"--responder {responder!r}: ")))
                continue
        scenario = checked.scenarios.get(index)
        handler = responder if isinstance(responder, str) else scenario.responder.handler if scenario else None
        if scenario is None or not is_state_machine_responder(handler) or not isinstance(scale, int | float):
            continue
        if isinstance(scale, bool) or scale <= 0:
            continue
        try:
            ladder_levels([{"level": level.level, "contact": level.contact, "after_seconds": level.after_seconds}
                           for level in scenario.escalation.levels], float(scale))
        except GdsimError as exc:
            message = str(exc).removeprefix(f"--time-scale {scale:g}: ")
            checked.issues.append(Issue(("time_scale",), f"{scale:g} does not suit {scenario.id}: {message}"))
