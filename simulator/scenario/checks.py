"""Checks across fields of a scenario file: references resolve, to the right kind of resource.

They read the file's plain data rather than the validated model, so they run even when some fields
are malformed and every problem in the file is reported in one go. Malformed parts are skipped
here: the field validation reports them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from simulator import catalog
from simulator.errors import InputError
from simulator.scenario.durations import parse_duration
from simulator.scenario.event_patterns import pattern_problems
from simulator.scenario.issues import Issue
from simulator.scenario.kinds import registered_kinds
from simulator.scenario.loader import NodePath
from simulator.scenario.resources import ATTRIBUTES, BUILTIN_REFERENCES, SECTIONS, bindable_kinds, names_root_user

REFERENCE = re.compile(r"\$\{([^}]*)\}")
_REFERENCE_PART = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z_]+)+$")
_NESTED_ATTRIBUTES = {"instance_profile": ("arn", "id", "name", "role_name", "role_arn")}
_ZONE = re.compile(r"^([a-f]|[a-z]{2}(-[a-z]+)+-\d[a-z])$")

LineOf = Callable[[NodePath], int]


@dataclass
class _Resource:
    kind: str
    path: NodePath
    data: dict[str, Any]


@dataclass
class _Index:
    """Logical name -> resource, built from the well-formed parts of the environment."""

    resources: dict[str, _Resource] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    def kind(self, name: Any) -> str | None:
        resource = self.resources.get(name) if isinstance(name, str) else None
        return resource.kind if resource else None


def cross_check(raw: dict[str, Any], line_of: LineOf) -> list[Issue]:
    """Every cross-field problem of a scenario document (already given its defaults)."""
    found = raw.get("environment")
    environment: dict[str, Any] = found if isinstance(found, dict) else {}
    index = _index(environment, line_of)
    issues = list(index.issues)
    issues += _network(environment, index)
    issues += _instances(environment, index)
    types = _finding_types(raw)
    issues += types.issues
    issues += _purpose(raw, types)
    issues += _findings(raw, index, types)
    levels = _levels(raw)
    issues += _steps(raw, index, levels)
    issues += _escalation(raw, index)
    issues += _responder(raw, index)
    issues += _policies(environment, index)
    return issues


# ---------------------------------------------------------------- helpers


def _dicts(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def _a(phrase: str) -> str:
    # Only "instance" among the kinds takes "an" ("a user", "a security group").
    return f"{'an' if phrase.startswith('instance') else 'a'} {phrase}"


def _kind_phrase(kind: str) -> str:
    return kind.replace("_", " ")


def _names_of(index: _Index, kind: str) -> str:
    names = sorted(name for name, resource in index.resources.items() if resource.kind == kind)
    return ", ".join(names) if names else f"none declared; add one under environment.{_section(kind)}"


def _section(kind: str) -> str:
    return next(section for section, k in SECTIONS.items() if k == kind)


def _reference(index: _Index, path: NodePath, value: Any, kinds: tuple[str, ...], what: str) -> Iterator[Issue]:
    """``value`` must name a declared resource of one of ``kinds``."""
    if not isinstance(value, str):
        return
    expected = " or ".join(_kind_phrase(kind) for kind in kinds)
    actual = index.kind(value)
    if actual is None:
        known = "; ".join(f"{_kind_phrase(kind)}s: {_names_of(index, kind)}" for kind in kinds)
        yield Issue(path, f"{what} {value!r} is not declared in the environment", f"{known}")
    elif actual not in kinds:
        yield Issue(path, f"{value!r} is {_a(_kind_phrase(actual))}, not {_a(expected)}",
                    f"name {_a(expected)}: {'; '.join(_names_of(index, kind) for kind in kinds)}")


# ---------------------------------------------------------------- environment


def _index(environment: dict[str, Any], line_of: LineOf) -> _Index:
    index = _Index()
    for section, kind in SECTIONS.items():
        value = environment.get(section)
        entries = [(("environment", section), value)] if section == "vpc" else [
            (("environment", section, i), item) for i, item in _dicts(value)]
        for path, item in entries:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            name = item["name"]
            if name in index.resources:
                first = index.resources[name]
                index.issues.append(Issue(
                    (*path, "name"),
                    f"name {name!r} is already used by the {_kind_phrase(first.kind)} at line {line_of(first.path)}",
                    "logical names are unique across the environment; rename one"))
                continue
            index.resources[name] = _Resource(kind, path, item)
    return index


def _network_of(value: Any) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(value, strict=True) if isinstance(value, str) else None
    except ValueError:
        return None


def _network(environment: dict[str, Any], index: _Index) -> Iterator[Issue]:
    vpc = environment.get("vpc")
    vpc_network = _network_of(vpc.get("cidr")) if isinstance(vpc, dict) else None
    if vpc is None:
        for section in ("subnets", "security_groups", "instances"):
            if environment.get(section):
                yield Issue(("environment", section), f"{section.replace('_', ' ')} need a VPC",
                            "add environment.vpc: {name: sandbox-vpc, cidr: 10.20.0.0/16}")
    seen: list[tuple[ipaddress.IPv4Network, str]] = []
    for i, subnet in _dicts(environment.get("subnets")):
        path = ("environment", "subnets", i)
        network = _network_of(subnet.get("cidr"))
        zone = subnet.get("zone")
        if zone is not None and not (isinstance(zone, str) and _ZONE.match(zone)):
            yield Issue((*path, "zone"), f"{zone!r} is not an availability zone",
                        "write a zone letter such as a, or a full name such as us-east-1a")
        if network is None:
            continue
        if vpc_network is not None and not network.subnet_of(vpc_network):
            yield Issue((*path, "cidr"), f"{network} is outside the VPC's {vpc_network}",
                        f"pick a block inside {vpc_network}")
        for other, other_name in seen:
            if network.overlaps(other):
                yield Issue((*path, "cidr"), f"{network} overlaps subnet {other_name!r} ({other})",
                            "give each subnet its own block")
        seen.append((network, str(subnet.get("name"))))


def _instances(environment: dict[str, Any], index: _Index) -> Iterator[Issue]:
    for i, instance in _dicts(environment.get("instances")):
        path = ("environment", "instances", i)
        yield from _reference(index, (*path, "subnet"), instance.get("subnet"), ("subnet",), "subnet")
        role = instance.get("role")
        if role is not None:
            yield from _reference(index, (*path, "role"), role, ("role",), "role")
            resource = index.resources.get(role) if isinstance(role, str) else None
            if resource is not None and resource.kind == "role" and resource.data.get("instance_profile") is not True:
                yield Issue((*path, "role"), f"role {role!r} has no instance profile, so no instance can use it",
                            f"set instance_profile: true on role {role!r}")
        groups = instance.get("security_groups")
        if isinstance(groups, list):
            for j, group in enumerate(groups):
                yield from _reference(index, (*path, "security_groups", j), group, ("security_group",),
                                      "security group")
        devices: dict[str, int] = {}
        for j, volume in _dicts(instance.get("volumes")):
            device = volume.get("device")
            if isinstance(device, str):
                if device in devices:
                    yield Issue((*path, "volumes", j, "device"),
                                f"device {device} is already used by volumes[{devices[device]}]",
                                "give each volume its own device")
                devices.setdefault(device, j)


# ---------------------------------------------------------------- findings


@dataclass
class _Types:
    known: dict[str, catalog.FindingType] = field(default_factory=dict)
    listed: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


_RETIRED_FIX = "pick an active type (`simulate list types` shows them), or set allow_retired_types: true"


def _lookup(name: str, allow_retired: bool = False) -> tuple[catalog.FindingType | None, InputError | None]:
    try:
        if allow_retired and name in catalog.retired_types():
            from simulator.findings.retired import retired_type  # only files that opt in pay for the import

            return retired_type(name), None
        return catalog.get_type(name), None
    except InputError as exc:
        if name in catalog.retired_types():
            return None, InputError(exc.message, field=exc.field, fix=_RETIRED_FIX)
        return None, exc


def _finding_types(raw: dict[str, Any]) -> _Types:
    types = _Types()
    allow_retired = raw.get("allow_retired_types") is True
    value = raw.get("finding_types")
    for i, name in enumerate(value if isinstance(value, list) else []):
        if not isinstance(name, str):
            continue
        types.listed.append(name)
        found, error = _lookup(name, allow_retired)
        if found is not None:
            types.known[name] = found
        elif error is not None:
            types.issues.append(Issue(("finding_types", i), error.message, error.fix))
    if allow_retired and types.known and not any(t.status == "retired" for t in types.known.values()):
        types.issues.append(Issue(("allow_retired_types",), "no listed finding type is retired",
                                  "remove allow_retired_types"))
    return types


def _purpose(raw: dict[str, Any], types: _Types) -> Iterator[Issue]:
    purpose = raw.get("threat_purpose")
    if not isinstance(purpose, str):
        return
    try:
        purposes = catalog.threat_purposes()
    except InputError as exc:
        yield Issue(("threat_purpose",), exc.message, exc.fix)
        return
    if purpose not in purposes:
        close = [known for known in purposes if known.lower() == purpose.lower()]
        yield Issue(("threat_purpose",), f"unknown threat purpose {purpose!r}",
                    f"did you mean {close[0]!r}?" if close else "`simulate list purposes` shows them")
    elif types.known and all(t.threat_purpose != purpose for t in types.known.values()):
        found = sorted({t.threat_purpose for t in types.known.values()})
        yield Issue(("threat_purpose",), f"no listed finding type has purpose {purpose!r}",
                    f"make threat_purpose match the finding types: {', '.join(found)}")


def _findings(raw: dict[str, Any], index: _Index, types: _Types) -> Iterator[Issue]:
    used: set[str] = set()
    for i, finding in _dicts(raw.get("findings")):
        path = ("findings", i)
        type_name = finding.get("type")
        finding_type = types.known.get(type_name) if isinstance(type_name, str) else None
        if isinstance(type_name, str):
            used.add(type_name)
            if type_name not in types.listed:
                found, error = _lookup(type_name, raw.get("allow_retired_types") is True)
                if error is not None:
                    yield Issue((*path, "type"), error.message, error.fix)
                else:
                    finding_type = found
                    yield Issue((*path, "type"), f"{type_name!r} is not listed in finding_types",
                                "add it to finding_types")
        resource = finding.get("resource")
        if resource is None and (finding_type is None or bindable_kinds(finding_type)):
            yield Issue((*path, "resource"), "missing", "add resource: NAME")
        elif finding_type is not None and names_root_user(finding_type) and isinstance(resource, str):
            yield Issue((*path, "resource"), f"{type_name} is about the account's root user, which no scenario builds",
                        "remove resource")
        elif finding_type is not None and isinstance(resource, str):
            kinds = bindable_kinds(finding_type)
            if not kinds:
                names = "/".join(finding_type.resource_types) or "resource"
                yield Issue((*path, "type"), f"{type_name} names a {names}, which the harness cannot build yet",
                            "remove resource (the finding then names a made-up one), or pick a type about an "
                            "instance, a user, a role or a bucket")
            else:
                yield from _reference(index, (*path, "resource"), resource, kinds, "resource")
        severity = finding.get("severity")
        if finding_type is not None and isinstance(severity, int | float) and not isinstance(severity, bool):
            low, high = finding_type.severity_range
            if not low <= severity <= high:
                yield Issue((*path, "severity"), f"{severity} is outside {type_name}'s severity range",
                            f"GuardDuty rates it {low}-{high}; omit severity to let the factory choose")
    listed = raw.get("finding_types")
    for i, name in enumerate(listed if isinstance(listed, list) else []):
        if isinstance(name, str) and name in types.known and name not in used:
            yield Issue(("finding_types", i), f"no finding of type {name!r} is injected",
                        "add it under findings or remove it from finding_types")


# ---------------------------------------------------------------- steps and escalation


def _levels(raw: dict[str, Any]) -> set[int]:
    escalation = raw.get("escalation")
    levels = escalation.get("levels") if isinstance(escalation, dict) else None
    return {level["level"] for _, level in _dicts(levels) if isinstance(level.get("level"), int)}


def _steps(raw: dict[str, Any], index: _Index, levels: set[int]) -> Iterator[Issue]:
    kinds = registered_kinds()
    seen: dict[str, int] = {}
    for i, step in _dicts(raw.get("steps")):
        path = ("steps", i)
        step_id = step.get("id")
        if isinstance(step_id, str):
            if step_id in seen:
                yield Issue((*path, "id"), f"step id {step_id!r} is already used by steps[{seen[step_id]}]",
                            "give each step its own id")
            seen.setdefault(step_id, i)
        expect = step.get("expect")
        if not isinstance(expect, dict) or not isinstance(expect.get("kind"), str):
            continue
        kind = kinds.get(expect["kind"])
        if kind is None:
            yield Issue((*path, "expect", "kind"), f"unknown expectation kind {expect['kind']!r}",
                        f"use one of {', '.join(sorted(kinds))}")
            continue
        params = {key: value for key, value in expect.items() if key != "kind"}
        targets = kind.match(set(params))
        if targets is None:
            example = ", ".join(f"{p}: ..." for p in kind.alternatives[0]) if kind.alternatives else ""
            yield Issue((*path, "expect"), f"{kind.name} takes {kind.describe_params()}, not "
                        f"{{{', '.join(map(str, params)) or 'nothing'}}}",
                        f"write {{kind: {kind.name}{', ' + example if example else ''}}}")
            continue
        for param, target in targets.items():
            value = params[param]
            where = (*path, "expect", param)
            if target == "text":
                continue
            if target == "level":
                number = value if isinstance(value, int) and not isinstance(value, bool) else (
                    int(value) if isinstance(value, str) and value.isdigit() else None)
                if number not in levels:
                    yield Issue(where, f"escalation level {value!r} is not in escalation.levels",
                                f"use one of {', '.join(map(str, sorted(levels))) or 'the declared levels'}")
            else:
                yield from _reference(index, where, value, (target,), _kind_phrase(target))
                resource = index.resources.get(value) if isinstance(value, str) else None
                if (kind.name == "role_credentials_revoked" and resource is not None and resource.kind == "instance"
                        and not resource.data.get("role")):
                    yield Issue(where, f"instance {value!r} has no role, so it has no role credentials to revoke",
                                "give the instance a role or drop this step")


def _escalation(raw: dict[str, Any], index: _Index) -> Iterator[Issue]:
    escalation = raw.get("escalation")
    if not isinstance(escalation, dict):
        return
    yield from _reference(index, ("escalation", "topic"), escalation.get("topic"), ("topic",), "topic")
    previous_level, previous_after = 0, 0.0
    for i, level in _dicts(escalation.get("levels")):
        path = ("escalation", "levels", i)
        number = level.get("level")
        if isinstance(number, int) and not isinstance(number, bool):
            if number != previous_level + 1:
                yield Issue((*path, "level"), f"level {number} follows level {previous_level}",
                            f"number the levels 1, 2, 3 in order; this one is {previous_level + 1}")
            previous_level = number
        after = level.get("after")
        try:
            seconds = parse_duration(after) if isinstance(after, str) else None
        except ValueError:
            seconds = None
        if seconds is not None:
            if seconds < previous_after:
                yield Issue((*path, "after"), f"{after} is earlier than the level before it",
                            "each level is paged no earlier than the one before")
            previous_after = seconds


# ---------------------------------------------------------------- responder


def _responder(raw: dict[str, Any], index: _Index) -> Iterator[Issue]:
    responder = raw.get("responder")
    if not isinstance(responder, dict):
        return
    environment = responder.get("environment")
    if isinstance(environment, dict):
        for key, value in environment.items():
            if isinstance(value, str):
                yield from _references_in(value, ("responder", "environment", key), index)
    rule = responder.get("rule")
    if isinstance(rule, dict) and "event_pattern" in rule:
        for inner, message, fix in pattern_problems(rule["event_pattern"]):
            yield Issue(("responder", "rule", "event_pattern", *inner), message, fix)


def _policies(environment: dict[str, Any], index: _Index) -> Iterator[Issue]:
    """Policy documents may name any resource with ${refs}; they are applied once everything exists."""
    for section, field_name in (("roles", "inline_policies"), ("users", "inline_policies"), ("buckets", "policy")):
        for i, item in _dicts(environment.get(section)):
            value = item.get(field_name)
            if isinstance(value, dict):
                yield from _strings_with_references(value, ("environment", section, i, field_name), index)


def _strings_with_references(value: Any, path: NodePath, index: _Index) -> Iterator[Issue]:
    if isinstance(value, str):
        if "${" in value:
            yield from _references_in(value, path, index)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings_with_references(item, (*path, key), index)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _strings_with_references(item, (*path, position), index)


def _references_in(text: str, path: NodePath, index: _Index) -> Iterator[Issue]:
    if text.count("${") != len(REFERENCE.findall(text)):
        yield Issue(path, f"{text!r} has an unclosed ${{", "write ${name.attribute}")
    for inner in REFERENCE.findall(text):
        yield from _check_reference(inner.strip(), path, index)


def _check_reference(inner: str, path: NodePath, index: _Index) -> Iterator[Issue]:
    if inner in BUILTIN_REFERENCES:
        return
    if not _REFERENCE_PART.match(inner):
        yield Issue(path, f"${{{inner}}} is not a reference",
                    f"write ${{name.attribute}} or one of ${{{'}, ${'.join(BUILTIN_REFERENCES)}}}")
        return
    name, *attributes = inner.split(".")
    kind = index.kind(name)
    if kind is None:
        yield Issue(path, f"${{{inner}}} names {name!r}, which is not declared in the environment",
                    f"declared: {', '.join(sorted(index.resources)) or 'nothing'}")
        return
    allowed = ATTRIBUTES[kind]
    first = attributes[0]
    if first not in allowed:
        yield Issue(path, f"${{{inner}}}: a {_kind_phrase(kind)} has no attribute {first!r}",
                    f"use one of {', '.join(allowed)}")
    elif len(attributes) > 1:
        nested = _NESTED_ATTRIBUTES.get(first)
        if nested is None or len(attributes) > 2 or attributes[1] not in nested:
            yield Issue(path, f"${{{inner}}} goes deeper than {name}.{first} allows",
                        f"use {', '.join(f'{first}.{n}' for n in nested)}" if nested else f"use ${{{name}.{first}}}")
    elif first in _NESTED_ATTRIBUTES:
        yield Issue(path, f"${{{inner}}} is a mapping, not text",
                    f"use one of {', '.join(f'{first}.{n}' for n in _NESTED_ATTRIBUTES[first])}")
