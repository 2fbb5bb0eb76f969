"""Validate one finding: its shape against the model, then GuardDuty's semantic rules."""

from __future__ import annotations

from typing import Any

from simulator.validate.issues import Issue, json_type
from simulator.validate.semantic import run_rules
from simulator.validate.shape import check_shape, checker_for, python_form_keys


def validate_finding(obj: Any, *, strict_semantics: bool = True, allow_retired: bool = False,
                     root: str = "$") -> list[Issue]:
    """Every problem with ``obj`` as a GuardDuty finding in wire form (GetFindings / EventBridge detail).

    ``strict_semantics=False`` checks the shape only (the model's members, types, enums, bounds, and
    the date-time strings). ``allow_retired=True`` turns the ``retired-type`` error into a warning.
    ``root`` is the finding's JSON path inside its document (``$.detail`` in an event).
    An empty list (or only warnings, see ``issues.is_valid``) means the finding is valid.
    """
    if not isinstance(obj, dict):
        return [Issue(root, f"expected a finding object, got {json_type(obj)}", "type")]
    wire_keys = obj.keys() & checker_for().members.keys()
    python_keys = python_form_keys(obj)
    if not wire_keys and not python_keys:
        shown = ", ".join(repr(key) for key in list(obj)[:3]) or "no keys"
        return [Issue(root, f"not a GuardDuty finding: none of its members (schemaVersion, id, type, resource...) "
                            f"are here, only {shown}", "not-a-finding")]
    if python_keys and len(python_keys) >= len(wire_keys):
        example = python_keys[0]
        wire = checker_for().python_names[example]
        return [Issue(root, f"this is boto3's Python form (PascalCase keys such as {example!r}), not the wire "
                            f"form GuardDuty sends (camelCase {wire!r}); validate the raw EventBridge event or "
                            "GetFindings JSON instead", "boto3-form")]
    issues = check_shape(obj, root=root)
    if strict_semantics:
        issues.extend(run_rules(obj, root=root, allow_retired=allow_retired))
    return issues
