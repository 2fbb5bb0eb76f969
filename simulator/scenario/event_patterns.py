"""Syntax of EventBridge event patterns: mappings down to lists of values or content filters."""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterator
from typing import Any

PatternPath = tuple[str | int, ...]

_STRING_OPERATORS = ("prefix", "suffix", "equals-ignore-case", "wildcard")
_ANYTHING_BUT_OPERATORS = ("prefix", "suffix", "equals-ignore-case", "wildcard")
_NUMERIC_COMPARATORS = ("<", "<=", "=", ">", ">=")
OPERATORS = ("prefix", "suffix", "anything-but", "numeric", "exists", "equals-ignore-case", "cidr", "wildcard")


Problem = tuple[PatternPath, str, str]  # path inside the pattern, message, fix


def pattern_problems(pattern: Any) -> list[Problem]:
    """Every syntax problem in ``pattern``; empty when it is a valid EventBridge pattern."""
    if not isinstance(pattern, dict) or not pattern:
        return [((), "an event pattern is a non-empty mapping", "write e.g. {source: [aws.guardduty]}")]
    return list(_mapping(pattern, ()))


def _mapping(node: dict[str, Any], path: PatternPath) -> Iterator[Problem]:
    for key, value in node.items():
        here = (*path, key)
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, dict) and v for v in value):
                yield here, "$or takes a list of at least two non-empty mappings", "write $or: [{...}, {...}]"
                continue
            for index, branch in enumerate(value):
                yield from _mapping(branch, (*here, index))
        elif isinstance(value, dict):
            if not value:
                yield here, "an empty mapping matches nothing", "remove it or add fields"
            yield from _mapping(value, here)
        elif isinstance(value, list):
            if not value:
                yield here, "an empty list matches nothing", "add the values to match"
            for index, item in enumerate(value):
                yield from _match_value(item, (*here, index))
        else:
            yield here, f"{value!r} is not in a list", f"write [{_yaml_scalar(value)}]"


def _match_value(item: Any, path: PatternPath) -> Iterator[Problem]:
    if item is None or isinstance(item, str | int | float | bool):
        return
    if not isinstance(item, dict) or len(item) != 1:
        yield path, "not a value to match", "write a string, number, null or one content filter such as {prefix: ...}"
        return
    operator, argument = next(iter(item.items()))
    here = (*path, operator)
    if operator not in OPERATORS:
        close = difflib.get_close_matches(operator, OPERATORS, n=1) if isinstance(operator, str) else []
        yield here, f"unknown content filter {operator!r}", (
            f"did you mean {close[0]}?" if close else f"use one of {', '.join(OPERATORS)}")
    elif operator in ("prefix", "suffix"):
        if not (isinstance(argument, str) or _is_ignore_case(argument)):
            yield here, f"{operator} takes a string", (
                f"write {{{operator}: text}} or {{{operator}: {{equals-ignore-case: text}}}}")
    elif operator in ("equals-ignore-case", "wildcard"):
        if not isinstance(argument, str):
            yield here, f"{operator} takes a string", f"write {{{operator}: text}}"
    elif operator == "exists":
        if not isinstance(argument, bool):
            yield here, "exists takes true or false", "write {exists: true}"
    elif operator == "cidr":
        try:
            ipaddress.ip_network(argument, strict=False)
        except (TypeError, ValueError):
            yield here, f"{argument!r} is not a CIDR block", "write {cidr: 10.0.0.0/24}"
    elif operator == "numeric":
        yield from _numeric(argument, here)
    else:
        yield from _anything_but(argument, here)


def _anything_but(argument: Any, path: PatternPath) -> Iterator[Problem]:
    if isinstance(argument, str | int | float) and not isinstance(argument, bool):
        return
    if isinstance(argument, list) and argument:
        if all(isinstance(v, str) for v in argument) or all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in argument):
            return
        yield path, "anything-but mixes strings and numbers", "list only strings or only numbers"
        return
    if isinstance(argument, dict) and len(argument) == 1:
        operator, value = next(iter(argument.items()))
        if operator in _ANYTHING_BUT_OPERATORS and (
                isinstance(value, str) or (operator in ("equals-ignore-case", "wildcard") and isinstance(value, list)
                                           and value and all(isinstance(v, str) for v in value))):
            return
    yield path, "anything-but takes a value, a list of values or one filter", (
        f"write {{anything-but: text}} or {{anything-but: {{prefix: text}}}} ({', '.join(_ANYTHING_BUT_OPERATORS)})")


def _numeric(argument: Any, path: PatternPath) -> Iterator[Problem]:
    usage = "write [op, number] or [>|>=, number, <|<=, number] with op one of < <= = > >="
    if not isinstance(argument, list) or len(argument) not in (2, 4):
        yield path, "numeric takes a comparison", usage
        return
    pairs = [argument[i:i + 2] for i in range(0, len(argument), 2)]
    for operator, number in pairs:
        if operator not in _NUMERIC_COMPARATORS or isinstance(number, bool) or not isinstance(number, int | float):
            yield path, f"{operator!r} {number!r} is not a comparison", usage
            return
    if len(pairs) == 2:
        (low_op, low), (high_op, high) = pairs
        if low_op not in (">", ">=") or high_op not in ("<", "<=") or low >= high:
            yield path, "not a numeric range", "write [>|>=, low, <|<=, high] with low < high"


def _is_ignore_case(argument: Any) -> bool:
    return isinstance(argument, dict) and list(argument) == ["equals-ignore-case"] and isinstance(
        argument["equals-ignore-case"], str)


def _yaml_scalar(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)
