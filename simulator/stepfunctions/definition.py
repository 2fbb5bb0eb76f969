"""State machine definitions as files: loading, filling in ``${...}`` values, and what their tasks call.

Values are filled in the way CloudFormation's ``DefinitionSubstitutions`` does it, with one addition: a
string that is nothing but one placeholder takes the value's own JSON type, so ``"levels": "${x}"`` can
become a list and ``"Seconds": "${y}"`` a number. Inside longer strings values are written as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from simulator.errors import InputError

PLACEHOLDER = re.compile(r"\$\{([^{}]+)\}")
_WHOLE = re.compile(r"^\$\{([^{}]+)\}$")
_OPTIMISED_ACTIONS = {
    # arn:aws:states:::SERVICE:ACTION of the optimised integrations -> the IAM action it needs
    ("lambda", "invoke"): "lambda:InvokeFunction",
    ("states", "startExecution"): "states:StartExecution",
}
# SDK service names whose IAM prefix differs.
_IAM_PREFIXES = {"sfn": "states", "cloudwatchlogs": "logs", "elasticloadbalancingv2": "elasticloadbalancing"}
_TASK_SUFFIXES = (".waitForTaskToken", ".sync:2", ".sync")


def load_definition(path: Path) -> dict[str, Any]:
    """The definition in ``path`` (Amazon States Language, JSON), checked for its two required fields."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot read the state machine definition: {error.strerror or error}",
                         location=str(path), fix="name an existing .asl.json file") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"not JSON: {error.msg}", location=f"{path}:{error.lineno}",
                         fix="a state machine definition is a JSON document (Amazon States Language)") from None
    if not isinstance(document, dict) or "StartAt" not in document or not isinstance(document.get("States"), dict):
        raise InputError("a state machine definition needs StartAt and States", location=str(path),
                         fix='write {"StartAt": "First", "States": {"First": {...}}}')
    return document


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}[{index}]")


def placeholders(document: Any) -> list[str]:
    """Every ``${name}`` the definition uses, in order of first appearance."""
    found: dict[str, None] = {}
    for _, text in _strings(document, ""):
        for match in PLACEHOLDER.finditer(text):
            found.setdefault(match.group(1).strip())
    return list(found)


def substitute(document: Any, resolve: Callable[[str], Any], *, location: str = "") -> Any:
    """A copy of ``document`` with every ``${name}`` replaced by ``resolve(name)``.

    ``resolve`` raises KeyError (or InputError) for a name it does not know; the error names the file
    and the field where the placeholder stands.
    """
    def value_of(name: str, where: str) -> Any:
        try:
            return resolve(name)
        except KeyError:
            raise InputError(f"${{{name}}} has no value", location=location, field=where,
                             fix="use ${env.NAME}, ${escalation.topic_arn}, ${escalation.levels}, "
                                 "${escalation.contact.N}, ${ack_table}, ${lambda:MODULE:FUNCTION} or a "
                                 "resource reference such as ${miner.id}") from None
        except InputError as error:
            raise InputError(error.message, location=location, field=where, fix=error.fix) from None

    def walk(value: Any, where: str) -> Any:
        if isinstance(value, dict):
            return {key: walk(item, f"{where}.{key}" if where else str(key)) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, f"{where}[{index}]") for index, item in enumerate(value)]
        if not isinstance(value, str) or "${" not in value:
            return value
        whole = _WHOLE.match(value)
        if whole:
            return value_of(whole.group(1).strip(), where)
        return PLACEHOLDER.sub(lambda match: _as_text(value_of(match.group(1).strip(), where)), value)

    return walk(document, "")


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def states_of(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, state) of every state, those inside Map and Parallel states included."""
    for name, state in (document.get("States") or {}).items():
        if not isinstance(state, dict):
            continue
        yield name, state
        for nested in (state.get("ItemProcessor"), state.get("Iterator")):
            if isinstance(nested, dict):
                yield from states_of(nested)
        for branch in state.get("Branches") or []:
            if isinstance(branch, dict):
                yield from states_of(branch)


def task_action(resource: str) -> str | None:
    """The IAM action a Task's ``Resource`` performs (``ec2:DescribeInstances``), None if unknown."""
    if resource.startswith("arn:aws:lambda:"):
        return "lambda:InvokeFunction"
    prefix = "arn:aws:states:::"
    if not resource.startswith(prefix):
        return None
    integration = resource[len(prefix):]
    for suffix in _TASK_SUFFIXES:
        integration = integration.removesuffix(suffix)
    parts = integration.split(":")
    if len(parts) == 3 and parts[0] == "aws-sdk":
        service, action = parts[1], parts[2]
        return f"{_IAM_PREFIXES.get(service, service)}:{action[:1].upper()}{action[1:]}"
    if len(parts) == 2:
        known = _OPTIMISED_ACTIONS.get((parts[0], parts[1]))
        return known or f"{parts[0]}:{parts[1][:1].upper()}{parts[1][1:]}"
    return None


def task_actions(document: dict[str, Any]) -> list[str]:
    """The IAM actions the definition's tasks perform, sorted: what its execution role must allow."""
    actions = set()
    for _, state in states_of(document):
        resource = state.get("Resource")
        if state.get("Type") == "Task" and isinstance(resource, str):
            action = task_action(resource)
            if action:
                actions.add(action)
    return sorted(actions)
