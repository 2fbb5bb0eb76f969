"""Why a scenario failed, as a test failure message: every unmet step and broken invariant, what the responder
itself reported, and the command that replays the run."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from simulator.reports.redact import redact_text
from simulator.reports.table import format_runbook, format_wall
from simulator.verdicts.model import MET, MISSING, StepVerdict

if TYPE_CHECKING:
    from simulator.reports.model import ScenarioResult


class ScenarioFailed(AssertionError):
    """A scenario's steps or invariants were not what the test required; the message says which and how to
    replay it."""


def describe_step(step: StepVerdict) -> str:
    sla = step.sla_text or format_runbook(step.sla_seconds)
    title = f" ({step.title})" if step.title else ""
    if step.verdict == MISSING:
        what = f"missing: never observed within the run (SLA {sla})"
    else:
        what = (f"{step.verdict}: observed at {format_runbook(step.observed_seconds)} "
                f"(wall {format_wall(step.observed_wall_seconds)}), SLA {sla}")
    detail = f"; {step.detail}" if step.detail and step.verdict != MET else ""
    return f"step {step.id}{title}: {what}{detail}"


def _responder_lines(result: ScenarioResult) -> list[str]:
    summary = result.invocations
    lines = [f"responder: {summary.total} invocation(s), {summary.errors} error(s), {summary.timeouts} timeout(s), "
             f"{summary.dead_letters} dead letter(s); {result.journal.calls} API call(s)"]
    errors = [line for line in result.invocation_log if line.error]
    if errors:
        lines.append(f"responder error (attempt {errors[0].attempt}): {errors[0].error}")
    elif result.invocation_log and result.invocation_log[-1].logs.strip():
        last = result.invocation_log[-1].logs.strip().splitlines()[-1]
        lines.append(f"responder's last log line: {last}")
    return lines


def explain(result: ScenarioResult, steps: Iterable[str] | None = None,
            invariants: Iterable[str] | None = None) -> str | None:
    """The failure message for ``result`` (None when it passed). ``steps``/``invariants`` limit the check to
    those ids (default: all of them); an unknown id raises KeyError naming the known ones."""
    chosen_steps = [result.step(s) for s in steps] if steps is not None else list(result.steps)
    chosen_invariants = ([result.invariant(i) for i in invariants] if invariants is not None
                         else list(result.invariants))
    unmet = [step for step in chosen_steps if step.verdict != MET]
    broken = [inv for inv in chosen_invariants if not inv.held]
    if not unmet and not broken and not result.error:
        return None
    counts = []
    if unmet:
        counts.append(f"{len(unmet)} of {len(chosen_steps)} step(s) unmet")
    if broken:
        counts.append(f"{len(broken)} of {len(chosen_invariants)} invariant(s) broken")
    if result.error:
        counts.append("the run did not finish")
    seed = f", seed {result.seed}" if result.seed is not None else ""
    lines = [f"scenario {result.id} failed: {', '.join(counts)} (time scale {result.time_scale:g}x{seed})"]
    if result.error:
        lines.append(f"  run aborted: {result.error}")
    lines += [f"  {describe_step(step)}" for step in unmet]
    for inv in broken:
        lines.append(f"  invariant {inv.id} broken: {inv.detail}")
        lines += [f"    - {violation}" for violation in inv.violations[:5] if violation != inv.detail]
    lines += [f"  {line}" for line in _responder_lines(result)]
    lines.append(f"repro: {result.repro}")
    return redact_text("\n".join(lines))


def assert_passed(result: ScenarioResult, steps: Iterable[str] | None = None,
                  invariants: Iterable[str] | None = None) -> None:
    """Raise :class:`ScenarioFailed` with a readable message unless the chosen steps were met and the chosen
    invariants held (default: every step and invariant)."""
    __tracebackhide__ = True  # pytest shows the test's line, not this one
    message = explain(result, steps, invariants)
    if message is not None:
        raise ScenarioFailed(message)
