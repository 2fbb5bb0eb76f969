"""Reading a plan file: every problem located by file, line and field, with its fix, all reported at once."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from simulator.errors import InputError
from simulator.gameday.checks import cross_check, resolve_relative
from simulator.gameday.plan import Entry, Plan, Player
from simulator.scenario import Scenario, ScenarioError
from simulator.scenario.issues import Issue, display_path, render_issues
from simulator.scenario.loader import NodePath, YamlSyntaxError, load_located
from simulator.scenario.validation import error_wording, node_path_of

# What to write for a missing field.
_EXAMPLES = {
    "name": "name: crypto-drill", "entries": "entries: [{scenario: crypto, at: random}]",
    "scenario": "scenario: crypto",
}
# How to write fields whose type alone says too little.
_FIXES = {
    "acknowledge_at_level": "write a level of the escalation path such as 1, or never",
    "seed": "write a whole number such as 42",
    "time_scale": "write a positive number such as 60 (a runbook minute per wall second)",
    "count": "write a whole number from 1 to 10",
}
_MODELS: dict[str, type[BaseModel]] = {"players": Player, "entries": Entry}


class PlanError(ScenarioError):
    """One or more problems in a game-day plan (or in the files it names); one located line per problem."""


@dataclass
class LoadedPlan:
    """A valid plan, the scenario of each entry (same order as ``plan.entries``) and where it came from."""

    plan: Plan
    path: Path
    scenarios: list[Scenario] = field(default_factory=list)

    @property
    def shown_path(self) -> str:
        return display_path(self.path)

    def chaos_argument(self, chaos: str | None) -> str | None:
        """A chaos profile as the runner takes it (a file named by the plan is relative to the plan)."""
        return resolve_relative(chaos, self.path.parent) if chaos else None

    def responder_argument(self, responder: str | None) -> str | None:
        return resolve_relative(responder, self.path.parent) if responder else None


def load_plan(path: str | Path, *, time_scale: float | None = None, seed: int | None = None) -> LoadedPlan:
    """Read and check a plan file; ``time_scale`` and ``seed`` override the plan's own (command-line flags)."""
    plan_path = Path(path).expanduser()
    if not plan_path.is_file():
        raise InputError(f"plan file {str(path)!r} does not exist", field="--plan",
                         fix="give the path to a game-day plan (gamedays/ has examples)")
    try:
        text = plan_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the plan: {exc}", location=display_path(plan_path)) from None
    return parse_plan(text, plan_path, time_scale=time_scale, seed=seed)


def parse_plan(text: str, path: Path, *, time_scale: float | None = None, seed: int | None = None) -> LoadedPlan:
    shown = display_path(path)
    try:
        located = load_located(text)
    except YamlSyntaxError as exc:
        raise PlanError([Issue((), f"not valid YAML: {exc.message}", "fix the syntax").render(shown, exc.line)],
                        location=shown) from None
    issues = [Issue(key_path, f"key {key_path[-1]!r} appears again (first at line {first})", "keep one", line)
              for key_path, line, first in located.duplicate_keys]
    if not isinstance(located.data, dict):
        issues.append(Issue((), "a plan is a mapping of fields", f"start with {_EXAMPLES['name']}"))
        raise PlanError(render_issues(issues, located, shown), location=shown)
    data: dict[str, Any] = dict(located.data)
    if time_scale is not None:
        data["time_scale"] = time_scale
    if seed is not None:
        data["seed"] = seed
    plan: Plan | None = None
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        issues += _field_issues(exc, data)
    checked = cross_check(data, path.parent, time_scale=time_scale)
    issues += checked.issues
    if issues or checked.file_lines or plan is None:
        raise PlanError(render_issues(issues, located, shown) + checked.file_lines, location=shown)
    scenarios = [checked.scenarios[index] for index in range(len(plan.entries))]
    return LoadedPlan(plan=plan, path=path.resolve(), scenarios=scenarios)


def _field_issues(exc: ValidationError, data: dict[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    seen: set[NodePath] = set()
    for error in exc.errors(include_url=False):
        path, missing = node_path_of(error["loc"], data, error["type"])
        if path in seen:
            continue  # a union reports one error per alternative; the first says enough
        seen.add(path)
        field_name = next((part for part in reversed(path) if isinstance(part, str)), "")
        if error["type"] == "extra_forbidden":
            known = _known_fields(path)
            close = difflib.get_close_matches(field_name, known, n=1)
            hint = f"did you mean {close[0]}?" if close else "remove it or check the spelling"
            issues.append(Issue(path, "unknown field", f"{hint}; fields here: {', '.join(known)}"))
            continue
        if error["type"] == "missing" and missing:
            issues.append(Issue(path, "missing", f"add {_EXAMPLES.get(field_name, field_name + ': ...')}"))
            continue
        message, fix = error_wording(error, path, missing)
        if field_name in _FIXES and not (error.get("ctx") or {}).get("fix"):
            fix = _FIXES[field_name]
        issues.append(Issue(path, message, fix))
    return issues


def _known_fields(path: NodePath) -> list[str]:
    """Field names of the model holding the unknown field at ``path`` (for spelling hints)."""
    model: type[BaseModel] = Plan
    if len(path) >= 3 and isinstance(path[0], str) and path[0] in _MODELS:
        model = _MODELS[path[0]]
    return list(model.model_fields)
