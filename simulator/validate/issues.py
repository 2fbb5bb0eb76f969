"""What a validation problem looks like: where it is (a JSON path), what is wrong, and which rule says so."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Level = Literal["error", "warning"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in one finding or event.

    ``path`` is a JSON path from the document's root (``$.service.action.dnsRequestAction.domain``,
    ``$.detail.resource.instanceDetails.networkInterfaces[0].publicIp``); ``rule`` a short id
    (``required``, ``type``, ``severity-band``...). Warnings do not make a finding invalid; they only
    appear where the caller asked for leniency (``allow_retired=True``).
    """

    path: str
    message: str
    rule: str
    level: Level = "error"

    @property
    def is_error(self) -> bool:
        return self.level == "error"

    def render(self) -> str:
        prefix = "warning: " if self.level == "warning" else ""
        return f"{self.path}: {prefix}{self.message} [{self.rule}]"

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message, "rule": self.rule, "level": self.level}


def errors(issues: Iterable[Issue]) -> list[Issue]:
    """The issues that make a finding invalid (warnings dropped)."""
    return [issue for issue in issues if issue.level == "error"]


def is_valid(issues: Iterable[Issue]) -> bool:
    return not any(issue.level == "error" for issue in issues)


def child(path: str, key: str) -> str:
    """The JSON path of ``key`` under ``path``: dotted for plain names, bracketed otherwise."""
    if not isinstance(key, str):
        key = repr(key)  # only objects built in code can have such keys; JSON cannot
    if _IDENTIFIER.match(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key)}]"


def describe(value: object) -> str:
    """A short, safe rendering of a bad value for a message (hostile inputs can be huge)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = json.dumps(value[:60])
        return f"{text[:-1]}...\" ({len(value)} characters)" if len(value) > 60 else text
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int) and value.bit_length() > 128:
        return f"a {value.bit_length()}-bit integer"
    return repr(value)[:60]


def json_type(value: object) -> str:
    """The JSON name of a Python value's type, as a reader of the file would say it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
