"""What a run reports: each scenario's steps, invariants, invocations and journal, and how to replay it."""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from simulator.observers.base import finding_id_of
from simulator.paths import SCENARIOS_DIR
from simulator.reports.redact import redact_text
from simulator.reports.timeline import (
    InvocationLine,
    JournalLine,
    Timeline,
    build_timeline,
    fault_lines,
    injection_moment,
    invocation_lines,
    journal_excerpt,
)
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


def _scrubbed_step(step: StepVerdict) -> StepVerdict:
    return replace(step, detail=redact_text(step.detail)) if step.detail else step


def _scrubbed_invariant(invariant: Invariant) -> Invariant:
    # Details quote responders' errors, and those can carry credentials.
    return replace(invariant, detail=redact_text(invariant.detail),
                   violations=tuple(redact_text(line) for line in invariant.violations))


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
class ChaosEffects:
    """What a chaos profile did to one scenario: the faults injected, each faulted call, each delivery
    anomaly, and which chaos caused which miss. The signatures compare two runs of the same seed."""

    profile: str
    faults: dict[str, int] = field(default_factory=dict)  # fault name -> times injected
    fault_calls: list[str] = field(default_factory=list)
    deliveries: list[str] = field(default_factory=list)
    attribution: list[str] = field(default_factory=list)
    planned_deliveries: int = 0
    fault_signature: list[list[Any]] = field(default_factory=list)  # [service, operation, call number, fault]
    delivery_signature: list[list[Any]] = field(default_factory=list)  # [finding id, kind, wall seconds]
    errors: list[str] = field(default_factory=list)


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
    # What happened when (runbook time from injection), for the scorecard; None when injection time is unknown.
    timeline: Timeline | None = None
    # The API journal around misses (empty when nothing was missed), the calls chaos faults hit, and the
    # responder's invocations with their (redacted) logs.
    journal_excerpt: list[JournalLine] = field(default_factory=list)
    faults: list[JournalLine] = field(default_factory=list)
    invocation_log: list[InvocationLine] = field(default_factory=list)
    # Problems inside the harness itself (a journal subscriber or the gateway failing): not the responder's.
    harness_errors: list[str] = field(default_factory=list)
    # What the run's chaos profile did; None for a run without chaos.
    chaos: ChaosEffects | None = None

    def step(self, step_id: str) -> StepVerdict:
        """The verdict of step ``step_id``; a KeyError names the steps there are."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(f"{self.id} has no step {step_id!r} (steps: {', '.join(s.id for s in self.steps)})")

    def invariant(self, invariant_id: str) -> Invariant:
        """Invariant ``invariant_id``; a KeyError names the invariants there are."""
        for invariant in self.invariants:
            if invariant.id == invariant_id:
                return invariant
        known = ", ".join(inv.id for inv in self.invariants)
        raise KeyError(f"{self.id} has no invariant {invariant_id!r} (invariants: {known})")

    def assert_passed(self, *steps: str) -> None:
        """Fail (AssertionError) with every unmet step, broken invariant and the repro command unless the run
        passed; with step ids, only those steps (and every invariant) must hold."""
        from simulator.reports.explain import assert_passed

        __tracebackhide__ = True
        assert_passed(self, steps if steps else None)

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
              observed_for_wall_seconds: float | None = None, error: str | None = None,
              injected_mono: float | None = None, harness_errors: Iterable[str] = ()) -> ScenarioResult:
        """The result of one scenario run; ``responder`` appears in the repro only if it is not the
        scenario's own handler. ``injected_mono`` (the first injection's monotonic time) places the journal
        and invocations on the timeline; without it the first delivery stands in for it."""
        own_handler = getattr(getattr(scenario, "responder", None), "handler", None)
        records = list(invocations)
        entries = journal.entries() if journal is not None else []
        label_of = getattr(journal, "label_of", None)
        injected, _exact = injection_moment(injected_mono, records)
        problems = [*harness_errors, *(f"journal subscriber failed: {error!r}"
                                       for error in getattr(journal, "subscriber_errors", []))]
        extras: dict[str, Any] = {}
        try:
            extras = {
                "timeline": build_timeline(scenario=scenario, steps=steps, entries=entries, invocations=records,
                                           injected_mono=injected_mono, time_scale=time_scale,
                                           observed_for_wall_seconds=observed_for_wall_seconds),
                "journal_excerpt": journal_excerpt(steps=steps, invariants=invariants, entries=entries,
                                                   injected_mono=injected, time_scale=time_scale, label_of=label_of),
                "faults": fault_lines(entries, injected_mono=injected, time_scale=time_scale, label_of=label_of),
                "invocation_log": invocation_lines(records, injected_mono=injected, time_scale=time_scale),
            }
        except Exception as failure:  # the verdicts stand without the scorecard's extras; say so, loudly
            problems.append(f"building the report timeline failed: {failure!r}")
        return cls(
            id=str(scenario.id),
            title=str(getattr(scenario, "title", "")),
            finding_types=list(dict.fromkeys(
                [str(f.get("type")) for f in findings if f.get("type")] or list(scenario.finding_types))),
            finding_ids=list(dict.fromkeys(fid for fid in (finding_id_of(f) for f in findings) if fid)),
            steps=[_scrubbed_step(step) for step in steps],
            invariants=[_scrubbed_invariant(invariant) for invariant in invariants],
            time_scale=time_scale,
            seed=seed,
            repro=repro_command(scenario_argument(scenario), seed=seed, time_scale=time_scale, target=target,
                                responder=responder if responder and responder != own_handler else None,
                                chaos=chaos),
            invocations=InvocationSummary.from_records(records, dead_letters),
            journal=JournalStats.from_entries(entries),
            observed_for_wall_seconds=observed_for_wall_seconds,
            error=redact_text(error) if error else error,
            harness_errors=[redact_text(problem) for problem in problems],
            **extras,
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
