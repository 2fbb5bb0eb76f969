"""Shape checks of a finding in wire form against botocore's GuardDuty model.

The model is read at run time through botocore's loader, so a newer botocore brings newer members.
It is compiled once into a tree of small checker objects (one per model shape, shared where the model
shares them): validating a finding is then one walk with no model look-ups.

Wire form means the keys are the members' ``locationName`` (camelCase), and timestamps are what the
rest-json protocol sends: epoch seconds (a number) or an ISO-8601 string.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

from simulator.validate.formats import EPOCH_SECONDS_LIMIT, parse_iso8601
from simulator.validate.issues import Issue, child, describe, json_type

FINDING_SHAPE = "Finding"

# Members the model types as plain strings that GuardDuty fills with ISO-8601 date-times.
ISO8601_STRING_MEMBERS: frozenset[tuple[str, str]] = frozenset({
    ("Finding", "createdAt"),
    ("Finding", "updatedAt"),
    ("Service", "eventFirstSeen"),
    ("Service", "eventLastSeen"),
    ("InstanceDetails", "launchTime"),
})

# Structures whose wire form carries keys the model does not declare. GuardDuty flattens
# service.additionalInfo's contents beside the declared value/type ("sample": true, "unusual": ...).
OPEN_STRUCTURES: frozenset[str] = frozenset({"ServiceAdditionalInfo"})

_LARGEST_DOUBLE = 1.7976931348623157e308
_INT_BOUNDS = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


class Checker:
    """Checks one JSON value against one model shape, appending issues to ``out``."""

    __slots__ = ()

    def check(self, value: Any, path: str, out: list[Issue]) -> None:
        raise NotImplementedError


def _wrong_type(expected: str, value: Any, path: str, out: list[Issue], hint: str = "") -> None:
    got = json_type(value)
    shown = f" {describe(value)}" if got not in ("object", "list", "null") else ""
    out.append(Issue(path, f"expected {expected}, got {got}{shown}{hint}", "type"))


class StringChecker(Checker):
    __slots__ = ("enum", "max_len", "min_len", "pattern", "shape")

    def __init__(self, shape: str, enum: frozenset[str] | None, min_len: int | None, max_len: int | None,
                 pattern: re.Pattern[str] | None) -> None:
        self.shape = shape
        self.enum = enum
        self.min_len = min_len
        self.max_len = max_len
        self.pattern = pattern

    def check(self, value: Any, path: str, out: list[Issue]) -> None:
        if type(value) is not str:
            _wrong_type("a string", value, path, out)
            return
        if self.enum is not None and value not in self.enum:
            allowed = ", ".join(sorted(self.enum))
            out.append(Issue(path, f"{describe(value)} is not one of {self.shape}'s values: {allowed}", "enum"))
        if self.min_len is not None and len(value) < self.min_len:
            out.append(Issue(path, f"{len(value)} characters; {self.shape} needs at least {self.min_len}",
                             "length"))
        if self.max_len is not None and len(value) > self.max_len:
            out.append(Issue(path, f"{len(value)} characters; {self.shape} allows at most {self.max_len}",
                             "length"))
        # Smithy patterns are not anchored: a match anywhere is what the model asks for.
        if self.pattern is not None and not self.pattern.search(value):
            out.append(Issue(path, f"{describe(value)} does not match {self.shape}'s pattern "
                                   f"{self.pattern.pattern}", "pattern"))


class Iso8601StringChecker(Checker):
    """A model string that GuardDuty always fills with an ISO-8601 date-time."""

    __slots__ = ("base",)

    def __init__(self, base: Checker) -> None:
        self.base = base

    def check(self, value: Any, path: str, out: list[Issue]) -> None:
        if type(value) is not str:
            hint = ""
            if type(value) in (int, float) and value > EPOCH_SECONDS_LIMIT:
                hint = " (epoch milliseconds?); GuardDuty writes an ISO-8601 string such as 2024-05-01T12:00:00Z"
            _wrong_type("an ISO-8601 date-time string", value, path, out, hint)
            return
        self.base.check(value, path, out)
        if parse_iso8601(value) is None:
            out.append(Issue(path, f"{describe(value)} is not an ISO-8601 date-time with a zone "
                                   "(GuardDuty writes 2024-05-01T12:00:00.000Z)", "timestamp-format"))


class NumberChecker(Checker):
    __slots__ = ("integral", "kind", "maximum", "minimum", "shape")

    def __init__(self, shape: str, kind: str, minimum: float | None, maximum: float | None) -> None:
        self.shape = shape
        self.kind = kind
        self.integral = kind in _INT_BOUNDS
        low, high = _INT_BOUNDS.get(kind, (None, None))
        self.minimum = minimum if minimum is not None else low
        self.maximum = maximum if maximum is not None else high

    def check(self, value: Any, path: str, out: list[Issue]) -> None:
        kind = type(value)
        if self.integral:
            if kind is not int:
                _wrong_type(f"an {self.kind}" if self.kind == "integer" else "a long integer", value, path, out)
                return
        elif kind is not int and kind is not float:
            _wrong_type("a number", value, path, out)
            return
        elif kind is float and not math.isfinite(value):
            out.append(Issue(path, f"{value!r} is not a finite number", "type"))
            return
        if self.minimum is not None and value < self.minimum:
            out.append(Issue(path, f"{describe(value)} is below {self.shape}'s minimum {self.minimum}", "range"))
        elif self.maximum is not None and value > self.maximum:
            out.append(Issue(path, f"{describe(value)} is above {self.shape}'s maximum {self.maximum}", "range"))
        elif kind is int and not self.integral and abs(value) > _LARGEST_DOUBLE:
            out.append(Issue(path, f"{describe(value)} does not fit in a double", "range"))


class BooleanChecker(Checker):
    __slots__ = ()

    def check(self, value: Any, path: str, out: list[Issue]) -> None:
        if type(value) is not bool:
            _wrong_type("a boolean", value, path, out)


class TimestampChecker(Checker):
    """rest-json timestamps: epoch seconds as a number, or an ISO-8601 string."""

    __slots__ = ()

    def check(self, value: Any, path: str, out: list[Issue]) -> None:
        kind = type(value)
        if kind is int or kind is float:
            if (kind is float and not math.isfinite(value)) or value < 0:
                out.append(Issue(path, f"{value!r} is not a time in epoch seconds", "timestamp-format"))
            elif value > EPOCH_SECONDS_LIMIT:
                out.append(Issue(path, f"{value!r} looks like epoch milliseconds; the wire form uses epoch "
                                       "seconds", "timestamp-format"))
        elif kind is str:
            if parse_iso8601(value) is None:
                out.append(Issue(path, f"{describe(value)} is neither epoch seconds nor an ISO-8601 date-time "
                                       "with a zone", "timestamp-format"))
        else:
            _wrong_type("a timestamp (epoch seconds or ISO-8601 string)", value, path, out)


class BlobChecker(Checker):
    __slots__ = ()

    def check(self, value: Any, path: str, out: list[Issue]) -> None:
        if type(value) is not str:
            _wrong_type("a base64 string", value, path, out)


class ListChecker(Checker):
    __slots__ = ("max_items", "member", "min_items", "shape")

    def __init__(self, shape: str, min_items: int | None, max_items: int | None) -> None:
        self.shape = shape
        self.min_items = min_items
        self.max_items = max_items
        self.member: Checker = Checker()

    def check(self, value: Any, path: str, out: list[Issue]) -> None:
        if type(value) is not list:
            _wrong_type("a list", value, path, out)
            return
        if self.min_items is not None and len(value) < self.min_items:
            out.append(Issue(path, f"{len(value)} items; {self.shape} needs at least {self.min_items}", "length"))
        if self.max_items is not None and len(value) > self.max_items:
            out.append(Issue(path, f"{len(value)} items; {self.shape} allows at most {self.max_items}", "length"))
        member = self.member
        for index, item in enumerate(value):
            if item is None:
                out.append(Issue(f"{path}[{index}]", "null inside a list", "null"))
            else:
                member.check(item, f"{path}[{index}]", out)


class MapChecker(Checker):
    __slots__ = ("key", "shape", "value")

    def __init__(self, shape: str) -> None:
        self.shape = shape
        self.key: Checker = Checker()
        self.value: Checker = Checker()

    def check(self, value: Any, path: str, out: list[Issue]) -> None:
        if type(value) is not dict:
            _wrong_type("an object", value, path, out)
            return
        for key, item in value.items():
            item_path = child(path, key)
            self.key.check(key, item_path, out)
            if item is None:
                out.append(Issue(item_path, "null map value", "null"))
            else:
                self.value.check(item, item_path, out)


class StructureChecker(Checker):
    __slots__ = ("members", "open", "python_names", "required", "shape", "suffixes")

    def __init__(self, shape: str, is_open: bool) -> None:
        self.shape = shape
        self.open = is_open
        self.members: dict[str, Checker] = {}
        self.suffixes: dict[str, str] = {}
        self.required: tuple[str, ...] = ()
        self.python_names: dict[str, str] = {}

    def check(self, value: Any, path: str, out: list[Issue]) -> None:
        if type(value) is not dict:
            _wrong_type("an object", value, path, out)
            return
        members = self.members
        for key, item in value.items():
            checker = members.get(key)
            if checker is None:
                if not self.open:
                    out.append(self.unknown_key(key, path))
                continue
            if item is None:
                # GuardDuty writes null for absent optional members ("platform": null).
                if key in self.required:
                    out.append(Issue(path + self.suffixes[key], f"required member of {self.shape} is null",
                                     "required"))
                continue
            checker.check(item, path + self.suffixes[key], out)
        for key in self.required:
            if key not in value:
                out.append(Issue(path + self.suffixes[key], f"required member of {self.shape} is missing",
                                 "required"))

    def unknown_key(self, key: str, path: str) -> Issue:
        if not isinstance(key, str):
            return Issue(path, f"non-string key {key!r}", "unknown-key")
        hint = ""
        wire = self.python_names.get(key)
        if wire is not None:
            hint = f" ({key!r} is boto3's Python name; the wire form spells it {wire!r})"
        else:
            close = [member for member in self.members if member.lower() == key.lower()]
            if close:
                hint = f" (did you mean {close[0]!r}?)"
        return Issue(child(path, key), f"unknown key: {self.shape} has no member {key!r}{hint}", "unknown-key")


def _compile(shape: Any, memo: dict[str, Checker]) -> Checker:
    """Turn a botocore Shape into a checker; shared shapes compile once, recursive ones terminate."""
    cached = memo.get(shape.name)
    if cached is not None:
        return cached
    meta = shape.metadata
    kind = shape.type_name
    checker: Checker
    if kind == "structure":
        structure = StructureChecker(shape.name, shape.name in OPEN_STRUCTURES)
        memo[shape.name] = structure  # before the members: a shape may contain itself
        required = set(shape.required_members)
        wire_required = []
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            member_checker = _compile(member, memo)
            if (shape.name, wire) in ISO8601_STRING_MEMBERS:
                member_checker = Iso8601StringChecker(member_checker)
            structure.members[wire] = member_checker
            structure.suffixes[wire] = f".{wire}"
            if name != wire:
                structure.python_names[name] = wire
            if name in required:
                wire_required.append(wire)
        structure.required = tuple(wire_required)
        return structure
    if kind == "list":
        items = ListChecker(shape.name, meta.get("min"), meta.get("max"))
        memo[shape.name] = items
        items.member = _compile(shape.member, memo)
        return items
    if kind == "map":
        mapping = MapChecker(shape.name)
        memo[shape.name] = mapping
        mapping.key = _compile(shape.key, memo)
        mapping.value = _compile(shape.value, memo)
        return mapping
    if kind == "string":
        checker = StringChecker(shape.name, frozenset(shape.enum) if shape.enum else None,
                                meta.get("min"), meta.get("max"), _pattern(meta.get("pattern")))
    elif kind in ("integer", "long", "double", "float"):
        checker = NumberChecker(shape.name, kind, meta.get("min"), meta.get("max"))
    elif kind == "boolean":
        checker = BooleanChecker()
    elif kind == "timestamp":
        checker = TimestampChecker()
    elif kind == "blob":
        checker = BlobChecker()
    else:
        raise ValueError(f"botocore shape {shape.name} has a type this checker does not know: {kind}")
    memo[shape.name] = checker
    return checker


def _pattern(text: str | None) -> re.Pattern[str] | None:
    if not text:
        return None
    try:
        return re.compile(text)
    except re.error:
        return None  # a Java-only construct; the other constraints still apply


@cache
def guardduty_model() -> Any:
    """botocore's GuardDuty service model, loaded once through botocore's own loader."""
    from botocore.session import get_session

    return get_session().get_service_model("guardduty")


@cache
def checker_for(shape_name: str = FINDING_SHAPE) -> StructureChecker:
    """The compiled checker for a structure of the model (``Finding`` by default), built once."""
    compiled = _compile(guardduty_model().shape_for(shape_name), {})
    if not isinstance(compiled, StructureChecker):
        raise ValueError(f"{shape_name} is not a structure in the GuardDuty model")
    return compiled


def check_shape(obj: Any, *, root: str = "$", shape_name: str = FINDING_SHAPE) -> list[Issue]:
    """Every place where ``obj`` departs from the model's wire form of ``shape_name``."""
    out: list[Issue] = []
    checker_for(shape_name).check(obj, root, out)
    return out


def python_form_keys(obj: dict[str, Any], shape_name: str = FINDING_SHAPE) -> list[str]:
    """Top-level keys that are boto3's PascalCase member names rather than wire names."""
    structure = checker_for(shape_name)
    return [key for key in obj if key in structure.python_names and key not in structure.members]
