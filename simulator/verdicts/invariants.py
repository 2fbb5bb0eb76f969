"""Run invariants: what every run must keep, whatever the SLAs say.

Each invariant is a plain function over explicit data (easy to test on constructed journals), and a
registered adapter that reads it from an :class:`InvariantContext`; :func:`evaluate_invariants`
builds the context of a run and evaluates every registered invariant in order.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulator.observers.base import entry_succeeded, finding_id_of, flatten_strings
from simulator.observers.notify import published_page_fields
from simulator.verdicts.model import LATE, MET, Invariant, StepVerdict

ESCALATION_KIND = "escalation_paged"

# ---------------------------------------------------------------- resource ids


def descriptor_ids(descriptor: Mapping[str, Any], *, with_profile: bool = False) -> set[str]:
    """Every id, name and ARN that belongs to a provisioned resource (contract (1) descriptors).

    Containers and references (an instance's VPC, subnet, security groups) are not the resource's own.
    ``with_profile`` adds an instance's profile and role: revoking them is part of handling the instance.
    """
    keys = ("id", "arn", "user_name", "role_name", "bucket_name", "topic_name", "group_name")
    ids = {descriptor.get(key) for key in keys}
    for nic in descriptor.get("network_interfaces") or []:
        ids.add(nic.get("id"))
    for volume in descriptor.get("volumes") or []:
        ids.add(volume.get("id"))
    for key in descriptor.get("access_keys") or []:
        ids.add(key.get("id"))
    if with_profile:
        ids.update((descriptor.get("instance_profile") or {}).values())
    return {value for value in ids if isinstance(value, str) and value}


def resource_ids(env: Any, name: str, *, with_profile: bool = False) -> set[str]:
    """The ids of logical resource ``name``: the environment's own answer plus its descriptor's."""
    descriptor = env.resources.get(name)
    ids = descriptor_ids(descriptor, with_profile=with_profile) if descriptor else set()
    ids_of = getattr(env, "ids_of", None)
    if callable(ids_of):
        with contextlib.suppress(KeyError):  # a name the environment does not know has no more ids
            ids.update(ids_of(name))
    return ids


# ---------------------------------------------------------------- blast radius

# Request parameters that name a resource the call only refers to (the VPC a group is created in, the
# groups an interface is put into). At the top level of a call whose name carries the noun (for
# example RevokeSecurityGroupEgress's GroupId), the same parameter names the resource changed.
_REFERENCE_KEYS: dict[str, Callable[[str], bool]] = {
    "VpcId": lambda operation: "Vpc" in operation,
    "SubnetId": lambda operation: "Subnet" in operation,
    "SubnetIds": lambda operation: "Subnet" in operation,
    "GroupId": lambda operation: "SecurityGroup" in operation,
    "GroupIds": lambda operation: "SecurityGroup" in operation,
    "Groups": lambda operation: "SecurityGroup" in operation,
    "SecurityGroupId": lambda operation: "SecurityGroup" in operation,
    "SecurityGroupIds": lambda operation: "SecurityGroup" in operation,
    "ImageId": lambda operation: "Image" in operation,
    "KmsKeyId": lambda operation: False,
    "PolicyArn": lambda operation: operation in {
        "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion", "SetDefaultPolicyVersion",
        "TagPolicy", "UntagPolicy",
    },
}


def _keyed_strings(value: Any, key: str, depth: int) -> Iterator[tuple[str, int, str]]:
    if isinstance(value, str):
        yield key, depth, value
    elif isinstance(value, Mapping):
        for child_key, child in value.items():
            yield from _keyed_strings(child, str(child_key), depth + 1)
    elif isinstance(value, list | tuple):
        for child in value:
            yield from _keyed_strings(child, key, depth)


def changed_ids(entry: Any) -> set[str]:
    """The resources a mutating call changes: what it names, minus what it only refers to."""
    references: set[str] = set()
    targets: set[str] = set()
    for key, depth, text in _keyed_strings(entry.params or {}, "", 0):
        targeted = _REFERENCE_KEYS.get(key)
        if targeted is not None and not (depth == 1 and targeted(entry.operation)):
            references.add(text)
        else:
            targets.add(text)
    return {rid for rid in entry.resource_ids if rid not in references or rid in targets}


def blast_radius(entries: Iterable[Any], *, env: Any, scope_names: Iterable[str],
                 shared_names: Iterable[str] = (), inventory_before: Mapping[str, Any] | None = None,
                 inventory_after: Mapping[str, Any] | None = None,
                 responder_callers: Iterable[str] | None = None) -> Invariant:
    """No mutating responder call changes a resource outside the finding's scope, the shared resources
    of the runbook, or what was created during the run; and no bystander changed between inventories."""
    names = list(env.resources)
    bystanders = set(getattr(env, "bystander_names", ()) or ())
    owner: dict[str, str] = {}
    for name in names:
        for rid in resource_ids(env, name):
            owner.setdefault(rid, name)
    bystander_ids = {rid for name in bystanders for rid in resource_ids(env, name)}
    allowed = set().union(*(resource_ids(env, n, with_profile=True) for n in scope_names),
                          *(resource_ids(env, n) for n in shared_names)) - bystander_ids
    pre_existing = set(owner) | set(inventory_before or ())
    callers = set(responder_callers) if responder_callers is not None else None

    violations: list[str] = []
    for entry in entries:
        if not entry.mutating or (callers is not None and entry.caller not in callers):
            continue
        outside = sorted(rid for rid in changed_ids(entry) if rid in pre_existing and rid not in allowed)
        for rid in outside:
            name = owner.get(rid)
            where = (f"bystander '{name}'" if name in bystanders
                     else f"outside the blast radius: '{name}'" if name else "outside the blast radius")
            failed = "" if entry_succeeded(entry) else f", failed: {entry.error_code or entry.status}"
            violations.append(f"{entry.service}:{entry.operation} on {rid} ({where}{failed})")
    violations.extend(_bystander_changes(env, bystanders, inventory_before, inventory_after))
    if violations:
        return Invariant("blast_radius", False, "; ".join(violations), tuple(violations))
    return Invariant("blast_radius", True, "no change outside the finding's resources and the runbook's own")


def _bystander_changes(env: Any, bystanders: set[str], before: Mapping[str, Any] | None,
                       after: Mapping[str, Any] | None) -> list[str]:
    if before is None or after is None:
        return []
    changes = []
    for name in sorted(bystanders):
        for rid in sorted(resource_ids(env, name) & set(before)):
            old, new = before[rid], after.get(rid)
            if new is None:
                changes.append(f"bystander '{name}' {rid} deleted")
            elif old != new:
                if isinstance(old, Mapping) and isinstance(new, Mapping):
                    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
                    changes.append(f"bystander '{name}' {rid} changed: {', '.join(map(str, keys))}")
                else:
                    changes.append(f"bystander '{name}' {rid} changed")
    return changes


# ---------------------------------------------------------------- responder errors


def _field(record: Any, name: str, default: Any = None) -> Any:
    if isinstance(record, Mapping):
        return record.get(name, default)
    return getattr(record, name, default)


def _error_text(error: Any) -> str:
    if isinstance(error, Mapping):
        kind = error.get("errorType") or error.get("type") or "Error"
        message = error.get("errorMessage") or error.get("message") or ""
        return f"{kind}: {message}" if message else str(kind)
    return str(error) if error else "no error detail"


def no_unhandled_errors(invocations: Iterable[Any], dead_letters: Iterable[Any] = ()) -> Invariant:
    """Every invocation of the responder ended without an error or timeout; nothing was dead-lettered."""
    violations = []
    count = 0
    for invocation in invocations:
        count += 1
        outcome = _field(invocation, "outcome", "ok")
        if outcome != "ok":
            violations.append(
                f"{outcome} on attempt {_field(invocation, 'attempt', '?')} "
                f"(request {_field(invocation, 'request_id', '?')}): {_error_text(_field(invocation, 'error'))}"
            )
    for letter in dead_letters:
        violations.append(
            f"dead-lettered after {_field(letter, 'attempts', '?')} attempts "
            f"(finding {_field(letter, 'finding_id', '?')}): {_error_text(_field(letter, 'error'))}"
        )
    if violations:
        return Invariant("no_unhandled_errors", False, "; ".join(violations), tuple(violations))
    return Invariant("no_unhandled_errors", True, f"{count} invocation(s), none failed")


# ---------------------------------------------------------------- findings end remediated or escalated


def pages_from_journal(entries: Iterable[Any], topic_arn: str | None,
                       finding_ids: Iterable[str]) -> dict[str, list[int | None]]:
    """Page levels published (successfully) on the escalation topic, by the finding they name."""
    wanted = list(finding_ids)
    pages: dict[str, list[int | None]] = {fid: [] for fid in wanted}
    if not topic_arn:
        return pages
    for entry in entries:
        if entry.operation != "Publish" or not entry_succeeded(entry):
            continue
        if (entry.params or {}).get("TopicArn") != topic_arn and topic_arn not in entry.resource_ids:
            continue
        level, named = published_page_fields(entry.params or {})
        texts = list(flatten_strings(entry.params))
        for fid in wanted:
            if named == fid or (named is None and any(fid in text for text in texts)):
                pages[fid].append(level)
    return pages


def remediated_or_escalated(finding_ids: Sequence[str], steps_by_finding: Mapping[str, Sequence[StepVerdict]],
                            pages: Mapping[str, Sequence[int | None]]) -> Invariant:
    """Every injected finding ends remediated (each remediation step observed, in time or late) or
    escalated (a page naming it); none is lost."""
    violations = []
    for fid in dict.fromkeys(finding_ids):
        steps = [step for step in steps_by_finding.get(fid, ()) if step.kind != ESCALATION_KIND]
        paged = bool(pages.get(fid)) or any(
            step.kind == ESCALATION_KIND and step.verdict in (MET, LATE) for step in steps_by_finding.get(fid, ())
        )
        if paged:
            continue
        if not steps:
            violations.append(f"finding {fid}: no step observed for it and no escalation page")
            continue
        unmet = [step.id for step in steps if step.verdict not in (MET, LATE)]
        if unmet:
            violations.append(f"finding {fid}: {', '.join(unmet)} never done and no escalation page")
    if violations:
        return Invariant("remediated_or_escalated", False, "; ".join(violations), tuple(violations))
    return Invariant("remediated_or_escalated", True, f"{len(set(finding_ids))} finding(s) remediated or escalated")


# ---------------------------------------------------------------- duplicate side effects


def _owner_finding(texts: Sequence[str], candidates: Iterable[str]) -> str | None:
    for fid in candidates:
        if any(fid in text for text in texts):
            return fid
    return None


def no_duplicate_side_effects(entries: Iterable[Any], scopes: Mapping[str, Iterable[str]], *,
                              responder_callers: Iterable[str] | None = None) -> Invariant:
    """At most one snapshot per volume and one message per topic, page level and subject, per finding.

    ``scopes`` maps each finding id to the ids of its resource (instance, interfaces, volumes). A call is
    charged to the finding it names (e.g. in a snapshot's tags or a message), else to the finding whose
    resource it names.
    """
    scope_sets = {fid: set(ids) for fid, ids in scopes.items()}
    callers = set(responder_callers) if responder_callers is not None else None
    counts: Counter[tuple[str, ...]] = Counter()
    for entry in entries:
        if callers is not None and entry.caller not in callers:
            continue
        if entry.operation not in ("CreateSnapshot", "CreateSnapshots", "Publish") or not entry_succeeded(entry):
            continue
        params = entry.params or {}
        texts = list(flatten_strings(params))
        fid = _owner_finding(texts, scope_sets)
        if entry.operation == "Publish":
            if fid is not None:
                level, _ = published_page_fields(params)
                topic, subject = str(params.get("TopicArn", "")), str(params.get("Subject", ""))
                counts[(fid, "message", topic, str(level), subject)] += 1
            continue
        named = set(entry.resource_ids) | set(texts)
        if fid is None:
            owners = [f for f, ids in scope_sets.items() if named & ids]
            fid = owners[0] if len(owners) == 1 else None
        if fid is None:
            continue
        if entry.operation == "CreateSnapshot":
            volumes = {params.get("VolumeId")} - {None}
        else:  # CreateSnapshots: every volume of the instance
            volumes = {rid for rid in scope_sets[fid] if rid.startswith("vol-")}
        for volume in volumes:
            counts[(fid, "snapshot", str(volume))] += 1
    duplicates = [
        (f"finding {key[0]}: {count} snapshots of {key[2]}" if key[1] == "snapshot"
         else f"finding {key[0]}: {count} messages on {key[2]}" + (f" (level {key[3]})" if key[3] != "None" else ""))
        for key, count in counts.items() if count > 1
    ]
    if duplicates:
        return Invariant("no_duplicate_side_effects", False, "; ".join(duplicates), tuple(duplicates))
    total = sum(counts.values())
    return Invariant("no_duplicate_side_effects", True, f"{total} snapshot/message side effect(s), none repeated")


# ---------------------------------------------------------------- registry and evaluation


@dataclass
class InvariantContext:
    """Everything the invariants of one scenario run look at."""

    entries: Sequence[Any]
    env: Any
    finding_ids: Sequence[str]
    steps_by_finding: Mapping[str, Sequence[StepVerdict]]
    scope_names: Sequence[str] = ()
    scope_by_finding: Mapping[str, set[str]] = field(default_factory=dict)
    shared_names: Sequence[str] = ()
    escalation_topic_arn: str | None = None
    invocations: Sequence[Any] = ()
    dead_letters: Sequence[Any] = ()
    inventory_before: Mapping[str, Any] | None = None
    inventory_after: Mapping[str, Any] | None = None
    responder_callers: frozenset[str] | None = None


@dataclass(frozen=True)
class InvariantSpec:
    id: str
    description: str
    check: Callable[[InvariantContext], Invariant]


_INVARIANTS: dict[str, InvariantSpec] = {}


def invariant(invariant_id: str, description: str) -> Callable[[Callable[[InvariantContext], Invariant]],
                                                                Callable[[InvariantContext], Invariant]]:
    """Register ``check(context) -> Invariant`` under ``invariant_id``; evaluated in registration order."""
    def decorate(check: Callable[[InvariantContext], Invariant]) -> Callable[[InvariantContext], Invariant]:
        _INVARIANTS[invariant_id] = InvariantSpec(invariant_id, description, check)
        return check

    return decorate


def registered_invariants() -> dict[str, InvariantSpec]:
    return dict(_INVARIANTS)


@invariant("blast_radius", "nothing outside the finding's resources (and what the runbook allows) was changed")
def _blast_radius(ctx: InvariantContext) -> Invariant:
    return blast_radius(ctx.entries, env=ctx.env, scope_names=ctx.scope_names, shared_names=ctx.shared_names,
                        inventory_before=ctx.inventory_before, inventory_after=ctx.inventory_after,
                        responder_callers=ctx.responder_callers)


@invariant("no_unhandled_errors", "the responder never raised, timed out or had an event dead-lettered")
def _no_unhandled_errors(ctx: InvariantContext) -> Invariant:
    return no_unhandled_errors(ctx.invocations, ctx.dead_letters)


@invariant("remediated_or_escalated", "every injected finding ended remediated or escalated; none was lost")
def _remediated_or_escalated(ctx: InvariantContext) -> Invariant:
    responder_entries = [e for e in ctx.entries
                         if ctx.responder_callers is None or e.caller in ctx.responder_callers]
    pages = pages_from_journal(responder_entries, ctx.escalation_topic_arn, ctx.finding_ids)
    return remediated_or_escalated(ctx.finding_ids, ctx.steps_by_finding, pages)


@invariant("no_duplicate_side_effects", "a repeated delivery repeats no snapshot and no message")
def _no_duplicate_side_effects(ctx: InvariantContext) -> Invariant:
    return no_duplicate_side_effects(ctx.entries, ctx.scope_by_finding, responder_callers=ctx.responder_callers)


_REFERENCE = re.compile(r"\$\{([a-z][a-z0-9-]*)(?:\.[A-Za-z_]+)?\}")


def shared_resource_names(scenario: Any, env: Any) -> list[str]:
    """Resources the runbook hands the responder besides the finding's: the escalation topic, the topics
    steps expect messages on, and resources its environment references (never a bystander)."""
    names: list[str] = []
    escalation_topic = getattr(getattr(scenario, "escalation", None), "topic", None)
    if escalation_topic:
        names.append(escalation_topic)
    for step in scenario.steps:
        names.extend(value for key, value in step.expect.params.items() if key == "topic")
    for value in scenario.responder.environment.values():
        names.extend(_REFERENCE.findall(str(value)))
    bystanders = set(getattr(env, "bystander_names", ()) or ())
    return [name for name in dict.fromkeys(names) if name in env.resources and name not in bystanders]


def evaluate_invariants(*, scenario: Any, env: Any, journal: Any, findings: Sequence[Mapping[str, Any]],
                        steps: Sequence[StepVerdict], invocations: Sequence[Any] = (),
                        dead_letters: Sequence[Any] = (), inventory_before: Mapping[str, Any] | None = None,
                        inventory_after: Mapping[str, Any] | None = None, responder_caller: str | None = None,
                        responder_callers: Iterable[str] | None = None,
                        steps_by_finding: Mapping[str, Sequence[StepVerdict]] | None = None,
                        only: Iterable[str] | None = None) -> list[Invariant]:
    """Every registered invariant (or those in ``only``) for one scenario run.

    ``steps`` are the verdicts of the first finding; findings injected again under the same id share
    them. Other findings need their own entry in ``steps_by_finding`` or an escalation page.
    ``responder_callers`` (or the single ``responder_caller``) are the access keys the responder acts with.
    """
    callers = frozenset(responder_callers or ()) | ({responder_caller} if responder_caller else set())
    finding_ids = [fid for fid in (finding_id_of(f) for f in findings) if fid]
    by_finding: dict[str, Sequence[StepVerdict]] = dict(steps_by_finding or {})
    if finding_ids:
        by_finding.setdefault(finding_ids[0], steps)
    scope_names = [spec.resource for spec in scenario.findings if spec.resource]
    scope_by_finding: dict[str, set[str]] = {}
    for spec, finding in zip(scenario.findings, findings, strict=False):
        fid = finding_id_of(finding)
        if fid and spec.resource:
            scope_by_finding.setdefault(fid, set()).update(resource_ids(env, spec.resource))
    escalation_topic = getattr(getattr(scenario, "escalation", None), "topic", None)
    topic = env.resources.get(escalation_topic) if escalation_topic else None
    context = InvariantContext(
        entries=journal.entries() if journal is not None else [],
        env=env,
        finding_ids=finding_ids,
        steps_by_finding=by_finding,
        scope_names=scope_names,
        scope_by_finding=scope_by_finding,
        shared_names=shared_resource_names(scenario, env),
        escalation_topic_arn=(topic or {}).get("arn"),
        invocations=list(invocations),
        dead_letters=list(dead_letters),
        inventory_before=inventory_before,
        inventory_after=inventory_after,
        responder_callers=callers or None,
    )
    selected = set(only) if only is not None else None
    return [spec.check(context) for spec in _INVARIANTS.values() if selected is None or spec.id in selected]
