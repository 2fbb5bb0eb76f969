"""What a run reports: each scenario's steps, invariants, invocations and journal, and how to replay it."""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulator.observers.base import finding_id_of
from simulator.paths import SCENARIOS_DIR
from simulator.verdicts.model import MET, Invariant, StepVerdict

PASS, FAIL = "pass", "fail"


def _field(record: Any, name: str, default: Any = None) -> Any:
    if isinstance(record, Mapping):
        return record.get(name, default)
    return getattr(record, name, default)


@dataclass(frozen=True)
class InvocationSummary:
    """The responder's invocations as Lambda users see them: cold and warm starts apart."""

    total: int = 0
    cold: int = 0
    warm: int = 0
    errors: int = 0
    timeouts: int = 0
    retries: int = 0
    dead_letters: int = 0

    @classmethod
    def from_records(cls, invocations: Iterable[Any], dead_letters: Iterable[Any] = ()) -> InvocationSummary:
        records = list(invocations)
        cold = sum(1 for record in records if _field(record, "cold", False))
        return cls(
            total=len(records),
            cold=cold,
            warm=len(records) - cold,
            errors=sum(1 for record in records if _field(record, "outcome", "ok") == "error"),
            timeouts=sum(1 for record in records if _field(record, "outcome", "ok") == "timeout"),
            retries=sum(1 for record in records if (_field(record, "attempt", 1) or 1) > 1),
            dead_letters=len(list(dead_letters)),
        )


@dataclass(frozen=True)
class JournalStats:
    """What went through the gateway."""

    calls: int = 0
    mutating: int = 0
    errors: int = 0
    faults: int = 0
    by_service: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_entries(cls, entries: Iterable[Any]) -> JournalStats:
        records = list(entries)
        return cls(
            calls=len(records),
            mutating=sum(1 for entry in records if entry.mutating),
            errors=sum(1 for entry in records if entry.status >= 400),
            faults=sum(1 for entry in records if entry.fault),
            by_service=dict(sorted(Counter(entry.service for entry in records).items())),
        )


def scenario_argument(scenario: Any) -> str:
    """How ``--scenario`` names this scenario: its id when it ships in scenarios/, else its file."""
    try:
        path = scenario.source_path
    except AttributeError:
        return str(scenario.id)
    return str(scenario.id) if path.parent.resolve() == SCENARIOS_DIR.resolve() else str(path)


def repro_command(scenario: str, *, seed: int | None, time_scale: float, target: str = "moto",
                  responder: str | None = None, chaos: str | None = None) -> str:
    """The one line that replays a run: same scenario, findings (seed), time scale, target and chaos."""
    words = ["simulate", "--scenario", scenario]
    if target != "moto":
        words += ["--target", target]
    if responder:
        words += ["--responder", responder]
    if chaos:
        words += ["--chaos", chaos]
    words += ["--time-scale", f"{time_scale:g}"]
    if seed is not None:
        words += ["--seed", str(seed)]
    return shlex.join(words)


@dataclass
class ScenarioResult:
    id: str
    title: str
    finding_types: list[str]
    finding_ids: list[str]
    steps: list[StepVerdict]
    invariants: list[Invariant]
    time_scale: float
    seed: int | None
    repro: str
    invocations: InvocationSummary = field(default_factory=InvocationSummary)
    journal: JournalStats = field(default_factory=JournalStats)
    # How long the observers watched after injection (wall seconds), for "N of M unmet after X s".
    observed_for_wall_seconds: float | None = None
    # Set when the harness could not finish the scenario (the run then fails, with this reason).
    error: str | None = None

    @property
    def unmet(self) -> list[StepVerdict]:
        return [step for step in self.steps if step.verdict != MET]

    @property
    def broken(self) -> list[Invariant]:
        return [inv for inv in self.invariants if not inv.held]

    @property
    def verdict(self) -> str:
        return PASS if not self.error and not self.unmet and not self.broken else FAIL

    @property
    def passed(self) -> bool:
        return self.verdict == PASS

    @classmethod
    def build(cls, *, scenario: Any, findings: Sequence[Mapping[str, Any]], steps: Sequence[StepVerdict],
              invariants: Sequence[Invariant], invocations: Iterable[Any] = (), journal: Any = None,
              seed: int | None = None, time_scale: float = 1.0, target: str = "moto",
              responder: str | None = None, chaos: str | None = None, dead_letters: Iterable[Any] = (),
              observed_for_wall_seconds: float | None = None, error: str | None = None) -> ScenarioResult:
        """The result of one scenario run; ``responder`` appears in the repro only if it is not the
        scenario's own handler."""
        own_handler = getattr(getattr(scenario, "responder", None), "handler", None)
        return cls(
            id=str(scenario.id),
            title=str(getattr(scenario, "title", "")),
            finding_types=list(dict.fromkeys(
                [str(f.get("type")) for f in findings if f.get("type")] or list(scenario.finding_types))),
            finding_ids=list(dict.fromkeys(fid for fid in (finding_id_of(f) for f in findings) if fid)),
            steps=list(steps),
            invariants=list(invariants),
            time_scale=time_scale,
            seed=seed,
            repro=repro_command(scenario_argument(scenario), seed=seed, time_scale=time_scale, target=target,
                                responder=responder if responder and responder != own_handler else None,
                                chaos=chaos),
            invocations=InvocationSummary.from_records(invocations, dead_letters),
            journal=JournalStats.from_entries(journal.entries()) if journal is not None else JournalStats(),
            observed_for_wall_seconds=observed_for_wall_seconds,
            error=error,
        )


@dataclass
class RunReport:
    run_id: str
    target: str
    time_scale: float
    seed: int | None
    scenarios: list[ScenarioResult] = field(default_factory=list)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    chaos: str | None = None
    responder: str | None = None

    @property
    def verdict(self) -> str:
        return PASS if self.scenarios and all(s.verdict == PASS for s in self.scenarios) else FAIL

    @property
    def passed(self) -> bool:
        return self.verdict == PASS

    @property
    def exit_code(self) -> int:
        """0 when every SLA was met and every invariant held, else 1."""
        return 0 if self.verdict == PASS else 1
