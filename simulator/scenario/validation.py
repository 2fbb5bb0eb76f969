"""From a parsed file to a Scenario, or to every problem in it, each with its line and a fix."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from simulator.scenario.checks import cross_check
from simulator.scenario.issues import Issue
from simulator.scenario.loader import Located, NodePath
from simulator.scenario.model import Scenario, default_security_group

# What to write for a missing field, by field name.
_EXAMPLES: dict[str, str] = {
    "id": "id: crypto", "title": "title: EC2 instance mining cryptocurrency",
    "threat_purpose": "threat_purpose: CryptoCurrency", "finding_types": "finding_types: [TYPE]",
    "urgency": "urgency: high", "problem": "problem: what happened and why it matters",
    "data_to_gather": "data_to_gather: [instance metadata, VPC flow logs]", "environment": "environment: {...}",
    "findings": "findings: [{type: TYPE, resource: NAME}]", "responder": "responder: {handler: ..., rule: ...}",
    "steps": "steps: [{id: ..., expect: {kind: ...}, within: 5m}]",
    "escalation": "escalation: {topic: ..., levels: [...]}",
    "within": "within: 5m", "after": "after: 15m", "expect": "expect: {kind: ..., instance: NAME}",
    "handler": "handler: responders.crypto:handler", "rule": "rule: {name: ..., event_pattern: {...}}",
    "event_pattern": "event_pattern: {source: [aws.guardduty]}", "name": "name: a-logical-name",
    "cidr": "cidr: 10.20.1.0/24", "subnet": "subnet: NAME", "device": "device: /dev/sdf", "size_gb": "size_gb: 20",
    "topic": "topic: NAME", "levels": "levels: [{level: 1, contact: ..., after: 0m}]", "level": "level: 1",
    "contact": "contact: ir-oncall-primary", "kind": "kind: instance_quarantined", "type": "type: TYPE",
    "resource": "resource: NAME",
}

# How a field with a fixed form is written, by field name.
_FORMS: dict[str, str] = {
    "handler": "write module:function or path/to/file.py:function",
    "device": "write /dev/sdb ... /dev/sdz",
    "instance_type": "write an instance type such as t3.micro",
    "image": "write an AMI id such as ami-0abc1234def567890",
    "name": "use letters, digits, dots, hyphens and underscores, at most 64 characters",
}

_TYPE_WORDS: dict[str, str] = {
    "string_type": "text", "int_type": "whole number", "int_parsing": "whole number", "int_from_float": "whole number",
    "float_type": "number", "float_parsing": "number", "bool_type": "true or false", "bool_parsing": "true or false",
    "list_type": "list", "dict_type": "mapping", "model_type": "mapping", "model_attributes_type": "mapping",
    "dataclass_type": "mapping",
}


def with_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """The document as validated: an environment with a VPC and no security groups gets the default one."""
    environment = data.get("environment")
    has_vpc = isinstance(environment, dict) and isinstance(environment.get("vpc"), dict)
    if isinstance(environment, dict) and has_vpc and "security_groups" not in environment:
        cidr = environment["vpc"].get("cidr")
        group = default_security_group(cidr if isinstance(cidr, str) else "10.0.0.0/16")
        environment = {**environment, "security_groups": [group]}
        return {**data, "environment": environment}
    return data


def validate_document(located: Located) -> tuple[Scenario | None, list[Issue]]:
    """The scenario and no issues, or None and every issue found (field by field and across fields)."""
    issues = [Issue(path, f"key {path[-1]!r} appears again (first at line {first})", "keep one", line)
              for path, line, first in located.duplicate_keys]
    if not isinstance(located.data, dict):
        issues.append(Issue((), "a scenario file is a mapping of fields", f"start with {_EXAMPLES['id']}"))
        return None, issues
    data = with_defaults(located.data)
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        issues += _field_issues(exc, data)
    issues += cross_check(data, located.line_of)
    return (scenario if not issues else None), issues


def _field_issues(exc: ValidationError, data: dict[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    seen: set[NodePath] = set()
    for error in exc.errors(include_url=False):
        path, missing = node_path_of(error["loc"], data, error["type"])
        if path in seen:
            # A union reports one error per alternative; the first says enough.
            continue
        seen.add(path)
        message, fix = error_wording(error, path, missing)
        issues.append(Issue(path, message, fix))
    return issues


def node_path_of(loc: tuple[Any, ...], data: Any, error_type: str) -> tuple[NodePath, bool]:
    """The error's location as a path in the file, dropping the model's own segments (params, union tags)."""
    path: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        in_mapping = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_list:
            node = node[part]
            path.append(part)
        elif part == "[key]":
            continue
        elif last and error_type == "missing":
            path.append(part)
            return tuple(path), True
    return tuple(path), False


def error_wording(error: Any, path: NodePath, missing: bool) -> tuple[str, str]:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    field = next((p for p in reversed(path) if isinstance(p, str)), "")
    given = _short(error.get("input"))
    if "fix" in ctx:
        return error["msg"], ctx["fix"]
    if kind == "missing" and missing:
        return "missing", f"add {_EXAMPLES.get(field, field + ': ...')}"
    if kind == "extra_forbidden":
        known = _known_fields(error["loc"][:-1])
        close = difflib.get_close_matches(str(field), known, n=1)
        hint = f"did you mean {close[0]}?" if close else "remove it or check the spelling"
        return "unknown field", f"{hint}; fields here: {', '.join(known)}" if known else hint
    if kind == "literal_error":
        return f"{given} is not allowed", f"use one of {ctx.get('expected', '')}"
    if kind == "string_pattern_mismatch":
        return f"{given} does not have the expected form", _FORMS.get(field, f"match {ctx.get('pattern')}")
    if kind in _TYPE_WORDS:
        word = _TYPE_WORDS[kind]
        return f"{given} is not {'a ' if word not in ('text', 'true or false') else ''}{word}", f"write {word}"
    if kind in ("too_short", "string_too_short"):
        minimum = ctx.get("min_length", 1)
        return ("must not be empty" if minimum == 1 else f"needs at least {minimum} items"), "add at least one"
    if kind in ("too_long", "string_too_long"):
        return f"has more than {ctx.get('max_length')} {'items' if kind == 'too_long' else 'characters'}", "shorten it"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = {"greater_than_equal": "at least", "less_than_equal": "at most",
                 "greater_than": "more than", "less_than": "less than"}[kind]
        limit = next(iter(ctx.values()), "")
        return f"{given} is out of range", f"write a value {bound} {limit}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return message, ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _known_fields(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model at ``loc`` (for spelling hints)."""
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int) or part == "[key]":
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        fields = model.model_fields
        info = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
        if info is None:
            # a params-style mapping the model reshapes (expect's parameters): no fixed fields
            return []
        model = _unwrap(info.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [info.alias or name for name, info in model.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    """list[X], X | None, Annotated[X, ...] -> X (the first model among the arguments)."""
    origin = typing.get_origin(annotation)
    if origin is None:
        return annotation
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    for argument in typing.get_args(annotation):
        inner = _unwrap(argument)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner
    if origin in (types.UnionType, typing.Union):
        return None
    return None
