"""Finding and reading scenario files: a name from the scenarios folder or a path."""

from __future__ import annotations

from pathlib import Path

from simulator import paths
from simulator.scenario.issues import Issue, ScenarioError, display_path, render_issues
from simulator.scenario.loader import Located
from simulator.scenario.model import Scenario
from simulator.scenario.validation import validate_document
from simulator.yamlfiles import FileKind

SCENARIO_FILES = FileKind(noun="scenario", short_noun="scenario", read_noun="scenario file", option="--scenario",
                          folder=lambda: paths.SCENARIOS_DIR, error=ScenarioError)


def parse_scenario(text: str, path: Path) -> Scenario:
    """Validate one scenario document; ``path`` is where it came from (for messages and ``source_path``)."""
    shown = display_path(path)
    located = SCENARIO_FILES.parse(text, shown)
    scenario, issues = validate_document(located)
    issues += _name_issues(located, path)
    if issues or scenario is None:
        raise ScenarioError(render_issues(issues, located, shown), location=shown)
    scenario._source_path = path.resolve()
    return scenario


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A scenario by name (``scenarios/NAME.yaml``) or by path to a YAML file."""
    return SCENARIO_FILES.load(name_or_path, parse_scenario)


def list_scenarios() -> list[Scenario]:
    """Every scenario in the scenarios folder, by id; problems in any file are all reported together."""
    return sorted(SCENARIO_FILES.load_all(load_scenario), key=lambda scenario: scenario.id)


def scenario_names() -> list[str]:
    return SCENARIO_FILES.names()


def scenario_files() -> list[Path]:
    return SCENARIO_FILES.files()


def _name_issues(located: Located, path: Path) -> list[Issue]:
    # A scenario in the shared folder is run by its file name, so the id must be that name.
    data = located.data
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return []
    if SCENARIO_FILES.in_folder(path) and data["id"] != path.stem:
        return [Issue(("id",), f"id {data['id']!r} differs from the file name {path.name!r}",
                      f"rename the file to {data['id']}{path.suffix} or set id: {path.stem}")]
    return []
