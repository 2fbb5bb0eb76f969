"""What a storm reports: per-step latency percentiles against the SLA, backlog, throughput, the findings
that ended neither remediated nor escalated, invariants and the harness's own cost; and its text form."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from simulator.scenario.durations import format_duration
from simulator.verdicts.model import Invariant


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def backlog(published: Sequence[float], started: Sequence[float], until: float | None = None) -> tuple[int, int]:
    """(largest backlog, backlog at ``until``): events on the bus that the responder had not started yet."""
    moments = sorted([(t, 1) for t in published] + [(t, -1) for t in started])
    level = peak = at_until = 0
    for moment, change in moments:
        level += change
        peak = max(peak, level)
        if until is not None and moment <= until:
            at_until = level
    return peak, max(at_until, 0)


@dataclass(frozen=True)
class StepStats:
    """One step over every finding of the storm; seconds are runbook time from publication."""

    id: str
    title: str
    sla_seconds: float
    met: int
    late: int
    missing: int
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None


@dataclass
class StormReport:
    scenario_id: str
    run_id: str
    seed: int
    time_scale: float
    rate: float
    duration: float
    findings: int
    resources: int
    profile: str | None = None
    steps: list[StepStats] = field(default_factory=list)
    invariants: list[Invariant] = field(default_factory=list)
    remediated: int = 0
    escalated: int = 0
    unresolved: list[str] = field(default_factory=list)  # neither remediated nor escalated
    deliveries: int = 0
    dropped: int = 0
    handled: int = 0
    throughput_per_second: float = 0.0  # findings handled per wall second
    publish_rate_achieved: float = 0.0
    backlog_max: int = 0
    backlog_at_end_of_publishing: int = 0
    pickup_p50: float | None = None  # wall seconds from publication to the handler starting
    pickup_p95: float | None = None
    invocation_ms_p50: float | None = None
    invocation_ms_p95: float | None = None
    invocations: int = 0
    invocation_errors: int = 0
    dead_letters: int = 0
    api_calls: int = 0
    slowest_calls: dict[str, float] = field(default_factory=dict)  # "service:Operation" -> median ms, top 5
    faults: dict[str, int] = field(default_factory=dict)
    harness_cpu_ms_per_finding: float = 0.0
    generate_ms_per_finding: float = 0.0
    put_events_ms_p50: float | None = None
    # Once the sandbox is provisioned, the findings generated and the observers prepared: what the storm
    # itself adds is measured from here.
    rss_mb_before_storm: float | None = None
    rss_mb_after_storm: float | None = None  # once the responder is idle, before effects are confirmed
    rss_mb_peak: float | None = None
    # The observers' own calls to the sandbox by phase ("prepare", "storm", "confirm") and operation.
    observer_calls: dict[str, dict[str, int]] = field(default_factory=dict)
    journal_entries_kept: int = 0  # the journal forgets what the storm has folded in, but a recent window
    calls_kept: int = 0  # responder calls the invariants read at the end, compacted
    provision_seconds: float = 0.0
    settle_seconds: float = 0.0
    verify_seconds: float = 0.0
    settled: bool = True  # False: the responder still had work when the storm's window closed
    checks: int = 0  # observer checks made to confirm effects
    checks_of: int = 0  # of this many (finding, step) pairs
    disagreements: list[str] = field(default_factory=list)  # the journal said done, the observer did not
    unconfirmed: list[str] = field(default_factory=list)  # checks the sandbox failed to answer
    missing_examples: dict[str, list[str]] = field(default_factory=dict)  # step id -> why, for a few findings
    errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        every_step_met = all(step.late == 0 and step.missing == 0 for step in self.steps)
        return every_step_met and not self.unresolved and all(inv.held for inv in self.invariants) \
            and not self.errors

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["invariants"] = [{"id": inv.id, "held": inv.held, "detail": inv.detail[:2000]} for inv in self.invariants]
        data["verdict"] = "pass" if self.passed else "fail"
        return data


# ---------------------------------------------------------------- rendering


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return format_duration(value) if value >= 1 else f"{value * 1000:.0f}ms"


def render_storm(report: StormReport) -> str:
    """The storm's summary as text tables."""
    from tabulate import tabulate

    head = (f"storm: {report.scenario_id}, {report.findings} findings at {report.rate:g}/s for "
            f"{report.duration:g}s over {report.resources} resources"
            + (f", chaos profile {report.profile}" if report.profile else "")
            + f"\ntime scale {report.time_scale:g}x, seed {report.seed}; latencies in runbook time from publication")
    rows = [(s.id, _seconds(s.sla_seconds), _seconds(s.p50), _seconds(s.p95), _seconds(s.p99), _seconds(s.max),
             s.met, s.late, s.missing) for s in report.steps]
    steps = tabulate(rows, headers=["step", "SLA", "p50", "p95", "p99", "max", "met", "late", "missing"])
    invariants = tabulate([(inv.id, "held" if inv.held else "BROKEN", inv.detail[:100]) for inv in report.invariants],
                          headers=["invariant", "result", "detail"])
    figures = [
        ("findings remediated / escalated / neither",
         f"{report.remediated} / {report.escalated} / {len(report.unresolved)}"),
        ("deliveries (dropped)", f"{report.deliveries} ({report.dropped})"),
        ("throughput", f"{report.throughput_per_second:.2f} findings/s handled; published at "
                       f"{report.publish_rate_achieved:.2f}/s"),
        ("backlog", f"max {report.backlog_max}, {report.backlog_at_end_of_publishing} when publishing ended"),
        ("pickup (publication to handler) p50 / p95",
         f"{_wall(report.pickup_p50)} / {_wall(report.pickup_p95)} wall"),
        ("invocations", f"{report.invocations} ({report.invocation_errors} failed, {report.dead_letters} "
                        f"dead-lettered), p50 {report.invocation_ms_p50 or 0:.0f} ms, "
                        f"p95 {report.invocation_ms_p95 or 0:.0f} ms"),
        ("responder API calls", f"{report.api_calls}" + (f"; faults {report.faults}" if report.faults else "")),
        ("most time in (median)", ", ".join(f"{name} {ms:.0f} ms" for name, ms in report.slowest_calls.items())),
        ("harness per finding", f"{report.harness_cpu_ms_per_finding:.1f} ms CPU, generate "
                                f"{report.generate_ms_per_finding:.2f} ms, PutEvents p50 "
                                f"{report.put_events_ms_p50 or 0:.1f} ms"),
        ("harness memory", f"{report.rss_mb_before_storm or 0:.0f} MB when the storm began, "
                           f"{report.rss_mb_after_storm or 0:.0f} MB after the storm, peak "
                           f"{report.rss_mb_peak or 0:.0f} MB"),
        ("observer calls to the sandbox", _calls(report.observer_calls)),
        ("effects confirmed by observers", f"{report.checks} of {report.checks_of} (finding, step) pairs"
                                           + (f"; {len(report.disagreements)} disagree with the journal"
                                              if report.disagreements else "")
                                           + (f"; {len(report.unconfirmed)} could not be checked"
                                              if report.unconfirmed else "")),
        ("phases", f"provision {report.provision_seconds:.1f}s, storm until idle {report.settle_seconds:.1f}s"
                   + ("" if report.settled else " (window closed with work left)")
                   + f", confirm {report.verify_seconds:.1f}s"),
    ]
    lines = [head, "", steps, "", invariants, "", tabulate(figures, tablefmt="plain")]
    for step_id, examples in report.missing_examples.items():
        lines.append(f"\n{step_id} missing, e.g. " + "; ".join(examples))
    if report.disagreements:
        lines.append("\njournal and observers disagree: " + "; ".join(report.disagreements[:3]))
    if report.unresolved:
        shown = ", ".join(report.unresolved[:5]) + (" ..." if len(report.unresolved) > 5 else "")
        lines.append(f"\nneither remediated nor escalated: {shown}")
    if report.errors:
        lines.append("\nharness errors: " + "; ".join(report.errors[:5]))
    lines.append(f"\n{'PASS' if report.passed else 'FAIL'} storm {report.scenario_id}")
    return "\n".join(lines)


def _calls(phases: dict[str, dict[str, int]]) -> str:
    parts = []
    for phase in ("prepare", "storm", "confirm"):
        counts = phases.get(phase, {})
        top = [f"{name.rsplit(':', 1)[-1]} {n}" for name, n in sorted(counts.items(), key=lambda item: -item[1])[:3]]
        detail = f" ({', '.join(top)})" if top else ""
        parts.append(f"{phase} {sum(counts.values())}{detail}")
    return "; ".join(parts)


def _wall(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
