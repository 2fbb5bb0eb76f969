"""Verdict records: one per step (SLA) and one per invariant."""

from __future__ import annotations

from dataclasses import dataclass

MET, LATE, MISSING = "met", "late", "missing"


@dataclass(frozen=True)
class StepVerdict:
    """How one runbook step fared. Seconds run from injection; ``observed_seconds`` is runbook time
    (wall seconds times the time scale), ``observed_wall_seconds`` what the clock really showed."""

    id: str
    sla_seconds: float
    observed_seconds: float | None
    observed_wall_seconds: float | None
    verdict: str  # "met" | "late" | "missing"
    title: str = ""
    kind: str = ""
    sla_text: str = ""
    source: str | None = None  # "journal" | "poll": what dated the effect
    operation: str | None = None  # the causing call, when the journal dated it
    detail: str | None = None

    @property
    def observed(self) -> bool:
        return self.observed_seconds is not None


@dataclass(frozen=True)
class Invariant:
    """A property of the whole run; ``detail`` says why it broke (or what it checked)."""

    id: str
    held: bool
    detail: str = ""
    violations: tuple[str, ...] = ()
