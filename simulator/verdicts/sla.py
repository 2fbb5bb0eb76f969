"""SLA verdicts: each step's observed time from injection, in runbook time, against its SLA."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simulator.verdicts.model import LATE, MET, MISSING, StepVerdict

# Float noise from subtracting monotonic readings (about 1e-9 s after months of uptime) must not turn
# "exactly at the SLA" into late. The tolerance is 10 ns of wall clock, so in runbook time it grows with
# the time scale, and stays far below a millisecond of runbook time at any useful scale.
WALL_TOLERANCE_SECONDS = 1e-8


def runbook_seconds(wall_seconds: float, time_scale: float) -> float:
    """Runbook time for a wall-clock duration: runs at ``--time-scale F`` compress every wait F times."""
    if time_scale <= 0:
        raise ValueError("time_scale must be positive")
    return wall_seconds * time_scale


def classify(observed_seconds: float | None, sla_seconds: float, time_scale: float = 1.0) -> str:
    """``met`` at or before the SLA, ``late`` after it, ``missing`` when never observed (runbook seconds)."""
    if observed_seconds is None:
        return MISSING
    return MET if observed_seconds <= sla_seconds + WALL_TOLERANCE_SECONDS * time_scale else LATE


def judge_step(step: Any, observation: Any | None, injected_mono: float, time_scale: float) -> StepVerdict:
    """The verdict of one scenario step given its observation (None: never observed)."""
    sla = float(step.within_seconds)
    wall: float | None = None
    if observation is not None and observation.met and observation.attributed_mono is not None:
        # An effect is never earlier than the injection that prompted it.
        wall = max(0.0, observation.attributed_mono - injected_mono)
    observed = runbook_seconds(wall, time_scale) if wall is not None else None
    expect = getattr(step, "expect", None)
    return StepVerdict(
        id=step.id,
        sla_seconds=sla,
        observed_seconds=round(observed, 6) if observed is not None else None,
        observed_wall_seconds=round(wall, 6) if wall is not None else None,
        verdict=classify(observed, sla, time_scale),
        title=getattr(step, "title", "") or "",
        kind=getattr(expect, "kind", "") or "",
        sla_text=getattr(step, "within_text", "") or "",
        source=getattr(observation, "source", None) if wall is not None else None,
        operation=getattr(observation, "operation", None) if wall is not None else None,
        detail=getattr(observation, "detail", None),
    )


def judge_steps(steps: Sequence[Any], observations: Mapping[str, Any], injected_mono: float,
                time_scale: float) -> list[StepVerdict]:
    """One verdict per step, in the scenario's order."""
    return [judge_step(step, observations.get(step.id), injected_mono, time_scale) for step in steps]
