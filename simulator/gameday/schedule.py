"""The game day's schedule: every finding of the plan, when it goes in (runbook time from the start), its
own seed, chaos and on-call. The same plan and seed always give the same schedule."""

from __future__ import annotations

import random
from dataclasses import dataclass

from simulator.gameday.loading import LoadedPlan
from simulator.gameday.plan import Player
from simulator.scenario import Scenario
from simulator.scenario.model import OnCallSpec


@dataclass(frozen=True)
class ScheduledFinding:
    """One finding of the game day: ``key`` (F1, F2... in order of time) names it on the scoreboard."""

    key: str
    entry: int  # index in plan.entries
    scenario: Scenario  # as the plan runs it (its on-call replaced by the plan's player, if any)
    at_seconds: float  # runbook seconds from the start of the game day
    random: bool
    seed: int
    player: Player | None  # None: the scenario's own on-call plays
    chaos: str | None
    responder: str | None

    @property
    def human(self) -> bool:
        return self.player is not None and self.player.human

    def oncall_text(self) -> str:
        if self.player is not None:
            return self.player.describe()
        spec = self.scenario.oncall
        if spec is None:
            return "nobody acknowledges"
        if spec.ack_level is None:
            return "the scenario's on-call (never acknowledges)"
        return f"the scenario's on-call (acknowledges level {spec.ack_level} after {spec.after.text})"


def finding_seed(plan_seed: int, index: int) -> int:
    """The seed of the ``index``-th finding (in plan order): two findings of one scenario differ."""
    return random.Random(f"gameday:{plan_seed}:finding:{index}").randrange(2**31)


def with_player(scenario: Scenario, player: Player | None) -> Scenario:
    """The scenario with ``player`` on-call: a simulated player replaces its ``oncall``, a human leaves nobody
    simulated (a person acknowledges with `simulate ack`), None keeps the scenario's own."""
    if player is None:
        return scenario
    if player.human:
        return scenario.model_copy(update={"oncall": None})
    spec = OnCallSpec.model_validate({"acknowledge_at_level": player.acknowledge_at_level,
                                      "after": player.after.text if player.after is not None else "0s"})
    return scenario.model_copy(update={"oncall": spec})


def build_schedule(loaded: LoadedPlan, seed: int) -> list[ScheduledFinding]:
    """Every finding of the plan with its time, in order of time (ties keep the plan's order)."""
    plan = loaded.plan
    rng = random.Random(f"gameday:{seed}:schedule")
    window = plan.window_seconds or 0.0
    drafts = []
    index = 0
    for entry_index, entry in enumerate(plan.entries):
        player = plan.player_for(entry)
        scenario = with_player(loaded.scenarios[entry_index], player)
        for _ in range(entry.count):
            # Whole runbook seconds: a schedule people read aloud at the start of the exercise.
            at = float(round(rng.uniform(0.0, window))) if entry.random else float(entry.at_seconds or 0.0)
            drafts.append((at, index, entry_index, scenario, entry.random, player,
                           loaded.chaos_argument(plan.chaos_for(entry)), loaded.responder_argument(entry.responder)))
            index += 1
    drafts.sort(key=lambda draft: (draft[0], draft[1]))
    return [ScheduledFinding(key=f"F{position}", entry=entry_index, scenario=scenario, at_seconds=at,
                             random=is_random, seed=finding_seed(seed, index), player=player, chaos=chaos,
                             responder=responder)
            for position, (at, index, entry_index, scenario, is_random, player, chaos, responder)
            in enumerate(drafts, 1)]


def clock_text(seconds: float) -> str:
    """Whole runbook seconds as a schedule reads: 41s, 5m07s, 1h02m05s."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def render_schedule(loaded: LoadedPlan, schedule: list[ScheduledFinding], *, seed: int, time_scale: float) -> str:
    """The schedule as printed at the start: one line per finding."""
    plan = loaded.plan
    last = max((item.at_seconds for item in schedule), default=0.0)
    lines = [f"game day {plan.name}: {len(schedule)} finding(s) within {clock_text(last)} of runbook time "
             f"at {time_scale:g}x (seed {seed}; replay: simulate gameday --plan {loaded.shown_path} --seed {seed})"]
    for item in schedule:
        how = "random" if item.random else "fixed"
        extras = [f"on-call: {item.oncall_text()}"]
        if item.chaos:
            extras.append(f"chaos: {item.chaos}")
        if item.responder:
            extras.append(f"responder: {item.responder}")
        lines.append(f"  {item.key:<4} +{clock_text(item.at_seconds):<7} {how:<7} {item.scenario.id:<24} "
                     + "; ".join(extras))
    return "\n".join(lines)
