"""The after-action report's content: per finding, when it went in, the time to detect and to achieve each
runbook step against its SLA, the escalation levels paged (and spared) against the runbook's timings, who
acknowledged and when, and the outcome. Rendering lives in ``render.py`` and ``html.py``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulator.gameday.live import FindingLive, Tracker
from simulator.reports import FAIL, PASS, verdict_line
from simulator.reports.redact import redact_text

WITHIN_SLA = "within SLA"
ESCALATED = "escalated"
MISSED = "missed"
ERROR = "error"
NOT_INJECTED = "not injected"
HANDLED = frozenset({WITHIN_SLA, ESCALATED})
_ESCALATION_KINDS = frozenset({"escalation_paged", "escalation_not_paged"})

GAMEDAY_JSON = "gameday.json"
GAMEDAY_MARKDOWN = "gameday.md"
GAMEDAY_HTML = "gameday.html"


@dataclass(frozen=True)
class StepLine:
    id: str
    title: str
    kind: str
    sla_seconds: float
    sla_text: str
    observed_seconds: float | None
    verdict: str

    @property
    def margin_seconds(self) -> float | None:
        """SLA left when the step was achieved (negative: late by that much)."""
        return None if self.observed_seconds is None else self.sla_seconds - self.observed_seconds


@dataclass(frozen=True)
class PageLine:
    level: int
    contact: str | None
    seconds: float | None  # runbook time from injection
    due_seconds: float | None  # when the runbook pages this level if nobody acknowledged


@dataclass(frozen=True)
class AckLine:
    by: str
    contact: str | None
    level: int
    seconds: float | None
    acknowledged_at: str
    next_level: int | None
    next_level_due_seconds: float | None

    @property
    def before_next_level(self) -> bool | None:
        """Whether the acknowledgement came before the next level was due (None: no level above)."""
        if self.next_level_due_seconds is None or self.seconds is None:
            return None
        return self.seconds <= self.next_level_due_seconds


@dataclass
class FindingReport:
    key: str
    scenario: str
    title: str
    finding_type: str
    finding_id: str | None
    seed: int
    scheduled_seconds: float
    random: bool
    injected_seconds: float | None
    oncall: str
    player: str | None
    human: bool
    chaos: str | None
    responder: str | None
    outcome: str
    steps: list[StepLine] = field(default_factory=list)
    detect_seconds: float | None = None
    pages: list[PageLine] = field(default_factory=list)
    levels_not_paged: list[int] = field(default_factory=list)
    acknowledgement: AckLine | None = None
    invariants_broken: list[str] = field(default_factory=list)
    verdict_line: str = ""
    repro: str = ""
    error: str | None = None
    cut_short: bool = False  # observation ended by the interruption

    @property
    def handled(self) -> bool:
        return self.outcome in HANDLED

    def step(self, step_id: str) -> StepLine:
        return next(step for step in self.steps if step.id == step_id)

    @property
    def levels_paged(self) -> list[int]:
        return sorted({page.level for page in self.pages})


@dataclass
class AfterActionReport:
    name: str
    description: str
    plan: str
    run_id: str
    seed: int
    time_scale: float
    window_seconds: float | None
    interrupted: bool
    findings: list[FindingReport]
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    wall_seconds: float | None = None
    harness_errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return sum(1 for finding in self.findings if finding.handled)

    @property
    def verdict(self) -> str:
        return PASS if self.findings and not self.interrupted and self.handled == len(self.findings) else FAIL

    @property
    def exit_code(self) -> int:
        """130 when interrupted; 0 when every finding ended within SLA or escalated per the runbook; else 1."""
        if self.interrupted:
            return 130
        return 0 if self.verdict == PASS else 1

    def finding(self, key: str) -> FindingReport:
        return next(finding for finding in self.findings if finding.key == key)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict
        data["handled"] = self.handled
        for finding, raw in zip(self.findings, data["findings"], strict=True):
            raw["handled"] = finding.handled
            raw["levels_paged"] = finding.levels_paged
            for step, step_raw in zip(finding.steps, raw["steps"], strict=True):
                step_raw["margin_seconds"] = step.margin_seconds
            if finding.acknowledgement is not None:
                raw["acknowledgement"]["before_next_level"] = finding.acknowledgement.before_next_level
        return data


def outcome_of(live: FindingLive) -> str:
    """Within SLA (every step met, every invariant held); escalated (a step missed, but the finding was paged
    and every escalation step of the runbook held, with no invariant broken); else missed, error or not
    injected."""
    if live.error:
        return ERROR
    if not live.injected:
        return NOT_INJECTED
    result = live.result
    if result is None:
        return ERROR
    if result.passed:
        return WITHIN_SLA
    escalation_steps = [step for step in result.steps if step.kind in _ESCALATION_KINDS]
    if live.pages and not result.broken and all(step.verdict == "met" for step in escalation_steps):
        return ESCALATED
    return MISSED


def finding_report(live: FindingLive, *, cut_short: bool) -> FindingReport:
    scheduled = live.scheduled
    scenario = scheduled.scenario
    result = live.result
    steps = [StepLine(step.id, step.title, step.kind, step.sla_seconds, step.sla_text or "", step.observed_seconds,
                      step.verdict) for step in (result.steps if result is not None else [])]
    due = {level.level: level.after_seconds for level in scenario.escalation.levels}
    seen: dict[int, float | None] = {}
    for page in live.pages:
        seen.setdefault(page.level, page.seconds)
    # The live times run from when the game day let the finding go; the run's timeline dates pages from the
    # injection itself: prefer it, and move the acknowledgement by the same difference.
    dated = _timeline_pages(result)
    shift = next((live_seconds - dated[level] for level, live_seconds in sorted(seen.items())
                  if level in dated and live_seconds is not None), 0.0)
    contacts = live.level_contacts
    pages = [PageLine(level, contacts.get(level), dated.get(level, seen.get(level)), due.get(level))
             for level in sorted(set(seen) | set(dated))]
    observed = [step.observed_seconds for step in steps if step.observed_seconds is not None]
    observed += [page.seconds for page in pages if page.seconds is not None]
    ack = None
    if live.ack is not None:
        above = sorted(level for level in due if level > live.ack.level)
        seconds = None if live.ack.seconds is None else max(0.0, live.ack.seconds - shift)
        ack = AckLine(live.ack.by, live.ack.contact, live.ack.level, seconds, live.ack.acknowledged_at,
                      above[0] if above else None, due.get(above[0]) if above else None)
    return FindingReport(
        key=scheduled.key, scenario=scenario.id, title=scenario.title,
        finding_type=live.finding_type or scenario.finding_types[0],
        finding_id=live.finding_id if live.injected else None,  # made, but never published
        seed=scheduled.seed, scheduled_seconds=scheduled.at_seconds, random=scheduled.random,
        injected_seconds=live.injected_seconds, oncall=scheduled.oncall_text(),
        player=scheduled.player.name if scheduled.player else None, human=scheduled.human,
        chaos=scheduled.chaos, responder=scheduled.responder, outcome=outcome_of(live), steps=steps,
        detect_seconds=min(observed) if observed else None, pages=pages,
        levels_not_paged=sorted(level for level in due if level not in seen and level not in dated)
        if live.injected else [],
        acknowledgement=ack,
        invariants_broken=[redact_text(f"{inv.id}: {inv.detail}") for inv in result.broken] if result else [],
        verdict_line=verdict_line(result) if result is not None else "",
        repro=str(getattr(result, "repro", "") or ""), error=redact_text(live.error) if live.error else None,
        cut_short=cut_short and live.injected,
    )


def _timeline_pages(result: Any) -> dict[int, float]:
    """Level -> first page (runbook seconds from injection) on the run's timeline."""
    timeline = getattr(result, "timeline", None)
    pages: dict[int, float] = {}
    for event in getattr(timeline, "events", None) or []:
        if event.kind == "page" and event.level is not None:
            pages[event.level] = min(pages.get(event.level, event.at_seconds), event.at_seconds)
    return pages


def build_report(tracker: Tracker, *, name: str, description: str, plan: str, run_id: str, seed: int,
                 time_scale: float, window_seconds: float | None, interrupted: bool, started_at: str,
                 wall_seconds: float | None, harness_errors: list[str]) -> AfterActionReport:
    return AfterActionReport(
        name=name, description=description, plan=plan, run_id=run_id, seed=seed, time_scale=time_scale,
        window_seconds=window_seconds, interrupted=interrupted,
        findings=[finding_report(live, cut_short=interrupted) for live in tracker],
        started_at=started_at, wall_seconds=wall_seconds, harness_errors=[redact_text(e) for e in harness_errors],
    )
