"""Which chaos caused which miss: step verdicts and broken invariants linked to the journal's faults and
to the delivery plan, as lines for the report.

The journal marks each faulted call (``JournalEntry.fault``); a step is linked to the faults on the
calls that would have made its expectation hold (its observer's causing operations), and to what
delivery chaos did to its finding. Misses that no chaos explains are said to be the responder's own.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from simulator.chaos.delivery import ORIGINAL, DeliveryPlan
from simulator.observers.base import entry_succeeded
from simulator.verdicts.model import LATE, MET, MISSING, Invariant, StepVerdict

_SHOWN = 4  # fault groups named per line; the rest are counted
_FINDING = re.compile(r"finding (\S+?):")


def _entries(journal: Any, callers: Collection[str] | None) -> list[Any]:
    entries = journal.entries() if hasattr(journal, "entries") else list(journal)
    if callers is None:
        return entries
    return [entry for entry in entries if entry.caller in callers]


def causing_operations(kind: str) -> frozenset[str]:
    """The calls that can make an expectation of ``kind`` hold (empty for an unknown kind)."""
    from simulator.observers import registered_kinds

    spec = registered_kinds().get(kind)
    return spec.observer.causing_operations if spec is not None else frozenset()


def _effect(entry: Any) -> str:
    if entry.status == 0:
        return "connection reset"
    if entry.error_code or entry.status >= 400:
        return str(entry.error_code or entry.status)
    return "slowed"


def _groups(faulted: Sequence[Any], entries: Sequence[Any]) -> list[str]:
    """'ec2:CreateSnapshot 3x deny (UnauthorizedOperation), never succeeded', most frequent first."""
    counts: Counter[tuple[str, str, str, str]] = Counter(
        (entry.service, entry.operation, entry.fault, _effect(entry)) for entry in faulted)
    first_seq: dict[tuple[str, str], int] = {}
    for entry in faulted:
        first_seq.setdefault((entry.service, entry.operation), entry.seq)
    texts = []
    for (service, operation, fault, effect), count in counts.most_common():
        after = first_seq[(service, operation)]
        succeeded = any(entry.service == service and entry.operation == operation and entry.seq > after
                        and entry_succeeded(entry) for entry in entries)
        outcome = "" if effect == "slowed" else (", then succeeded" if succeeded else ", never succeeded")
        texts.append(f"{service}:{operation} {count}x '{fault}' ({effect}){outcome}")
    if len(texts) > _SHOWN:
        texts = [*texts[:_SHOWN], f"{len(texts) - _SHOWN} more"]
    return texts


def describe_faults(journal: Any, *, responder_callers: Collection[str] | None = None) -> list[str]:
    """One line per faulted operation: what was injected, how often, and whether the call got through."""
    entries = _entries(journal, responder_callers)
    faulted = [entry for entry in entries if entry.fault]
    if not faulted:
        return []
    counts: Counter[tuple[str, str, str, str]] = Counter(
        (entry.service, entry.operation, entry.fault, _effect(entry)) for entry in faulted)
    lines = []
    for (service, operation, fault, effect), count in sorted(counts.items()):
        calls = [entry for entry in entries if entry.service == service and entry.operation == operation]
        ok = sum(1 for entry in calls if entry_succeeded(entry))
        got = "slowed" if effect == "slowed" else f"{ok} of {len(calls)} call(s) succeeded"
        lines.append(f"chaos fault '{fault}' on {service}:{operation}: {count}x ({effect}); {got}")
    return lines


def _delivery_note(plan: DeliveryPlan | None, finding_id: str | None) -> str | None:
    if plan is None or not finding_id:
        return None
    if finding_id in plan.lost():
        return "its event was dropped by chaos and never delivered"
    delivered = plan.of_finding(finding_id)
    if not delivered:
        return None
    first = delivered[0]
    if first.kind == ORIGINAL:
        return None
    wait = (first.at_seconds - first.published_seconds) * plan.time_scale
    if first.kind in ("delayed", "update") and wait > 0:
        return f"its first event arrived {wait:.0f}s (runbook) after publication ({first.note})"
    return f"its first event was a chaos {first.kind} ({first.note})"


def _slowed_seconds(entries: Sequence[Any], time_scale: float) -> tuple[int, float]:
    slowed = [entry for entry in entries if entry.fault and _effect(entry) == "slowed"]
    return len(slowed), sum(entry.duration for entry in slowed) * time_scale


def step_causes(step: StepVerdict, entries: Sequence[Any], *, plan: DeliveryPlan | None = None,
                finding_id: str | None = None, time_scale: float = 1.0) -> str | None:
    """Why a step was late or missing, in chaos terms; None for a met step."""
    if step.verdict == MET:
        return None
    operations = causing_operations(step.kind)
    on_step = [entry for entry in entries if entry.fault and entry.operation in operations]
    causes: list[str] = []
    note = _delivery_note(plan, finding_id)
    if note:
        causes.append(note)
    if on_step:
        causes.append("its calls hit chaos: " + ", ".join(_groups(on_step, entries)))
    if step.verdict == LATE:
        count, seconds = _slowed_seconds(entries, time_scale)
        if count:
            causes.append(f"{count} call(s) slowed by chaos latency, {seconds:.0f}s (runbook) in all")
    if step.verdict == MISSING and not on_step:
        elsewhere = [entry for entry in entries if entry.fault and _effect(entry) != "slowed"]
        if elsewhere:
            causes.append("no call for it was made or faulted; chaos hit other calls: "
                          + ", ".join(_groups(elsewhere, entries)))
    return "; ".join(causes) or "no chaos fault or delivery anomaly touched it (the responder's own miss)"


def _step_lines(steps: Sequence[StepVerdict], entries: Sequence[Any], plan: DeliveryPlan | None,
                finding_id: str | None, time_scale: float) -> list[str]:
    """One line per distinct cause: steps missed for the same reason share it."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for step in steps:
        causes = step_causes(step, entries, plan=plan, finding_id=finding_id, time_scale=time_scale)
        if causes is not None:
            grouped.setdefault((step.verdict, causes), []).append(step.id)
    return [f"{'step' if len(ids) == 1 else 'steps'} {', '.join(ids)} {verdict}: {causes}"
            for (verdict, causes), ids in grouped.items()]


def _invariant_lines(invariant: Invariant, entries: Sequence[Any], plan: DeliveryPlan | None) -> list[str]:
    violations = list(invariant.violations) or [invariant.detail]
    lines = []
    if invariant.id == "remediated_or_escalated":
        lost = set(plan.lost()) if plan is not None else set()
        for violation in violations:
            match = _FINDING.search(violation)
            fid = match.group(1) if match else None
            if fid in lost:
                lines.append(f"finding {fid} lost: its event was dropped by chaos and nothing escalated it")
            else:
                faults = [entry for entry in entries if entry.fault and _effect(entry) != "slowed"]
                cause = ("; chaos hit: " + ", ".join(_groups(faults, entries))) if faults else \
                    "; no chaos explains it"
                lines.append(f"{violation}{cause}")
    elif invariant.id == "no_duplicate_side_effects":
        for violation in violations:
            match = _FINDING.search(violation)
            fid = match.group(1) if match else None
            delivered = plan.of_finding(fid) if plan is not None and fid else []
            extra = Counter(item.kind for item in delivered if item.kind not in (ORIGINAL, "delayed"))
            if extra:
                kinds = ", ".join(f"{kind} x{count}" for kind, count in sorted(extra.items()))
                lines.append(f"{violation}: the finding was delivered {len(delivered)} times by chaos ({kinds})")
            else:
                lines.append(f"{violation}: not caused by delivery chaos (delivered once)")
    elif invariant.id == "no_unhandled_errors":
        faults = [entry for entry in entries if entry.fault and _effect(entry) != "slowed"]
        for violation in violations:
            named = [entry for entry in faults
                     if (entry.error_code and entry.error_code in violation)
                     or (entry.status == 0 and ("onnection" in violation or "reset" in violation.lower()))]
            if named:
                lines.append(f"{violation} <- chaos: " + ", ".join(_groups(named, entries)))
            elif faults:
                lines.append(f"{violation} <- during chaos: " + ", ".join(_groups(faults, entries)))
            else:
                lines.append(f"{violation} <- no chaos fault explains it")
    else:
        lines.append(f"{invariant.id} broken: chaos does not excuse it ({invariant.detail})")
    return lines


def attribute_misses(steps: Sequence[StepVerdict], invariants: Sequence[Invariant], journal: Any, *,
                     plan: DeliveryPlan | None = None, finding_id: str | None = None, time_scale: float = 1.0,
                     responder_callers: Collection[str] | None = None) -> list[str]:
    """Lines linking each late or missing step and each broken invariant to the chaos that caused it.

    ``journal`` is a Journal or its entries; ``finding_id`` is the finding the steps judge (default: the
    plan's first); ``time_scale`` turns wall seconds into runbook seconds; ``responder_callers`` (access
    keys) keeps only the responder's calls.
    """
    entries = _entries(journal, responder_callers)
    if finding_id is None and plan is not None:
        finding_id = next((item.finding_id for item in (*plan.deliveries, *plan.dropped) if item.finding_id), None)
    lines = _step_lines(steps, entries, plan, finding_id, time_scale)
    for invariant in invariants:
        if not invariant.held:
            lines.extend(_invariant_lines(invariant, entries, plan))
    return lines


def delivery_lines(plan: DeliveryPlan) -> list[str]:
    """What delivery chaos did, one line per touched event (runbook time)."""
    lines = []
    for item in plan.anomalies():
        lines.append(f"finding {item.finding_id}: {item.kind} - {item.note}" if item.note
                     else f"finding {item.finding_id}: {item.kind}")
    return lines


def duplicate_deliveries(plan: DeliveryPlan) -> dict[str, int]:
    """Finding id -> times chaos delivered it again (duplicates, updates and bursts)."""
    counts: Counter[str] = Counter()
    for item in plan.deliveries:
        if item.finding_id and item.kind not in (ORIGINAL, "delayed"):
            counts[item.finding_id] += 1
    return dict(counts)


def faults_by_step(steps: Iterable[StepVerdict], entries: Sequence[Any]) -> dict[str, int]:
    """Step id -> faulted calls among the calls that can make it hold (for summaries)."""
    return {step.id: sum(1 for entry in entries if entry.fault and entry.operation in causing_operations(step.kind))
            for step in steps}

