"""Finding and reading scenario files: a name from the scenarios folder or a path."""

from __future__ import annotations

from pathlib import Path

from simulator import paths
from simulator.errors import InputError
from simulator.scenario.issues import Issue, ScenarioError, display_path
from simulator.scenario.loader import Located, YamlSyntaxError, load_located
from simulator.scenario.model import Scenario
from simulator.scenario.validation import validate_document

SUFFIXES = (".yaml", ".yml")


def parse_scenario(text: str, path: Path) -> Scenario:
    """Validate one scenario document; ``path`` is where it came from (for messages and ``source_path``)."""
    shown = display_path(path)
    try:
        located = load_located(text)
    except YamlSyntaxError as exc:
        raise ScenarioError([Issue((), f"not valid YAML: {exc.message}", "fix the syntax").render(shown, exc.line)],
                            location=shown) from None
    scenario, issues = validate_document(located)
    issues += _name_issues(located, path)
    if issues or scenario is None:
        raise ScenarioError(_render(issues, located, shown), location=shown)
    scenario._source_path = path.resolve()
    return scenario


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A scenario by name (``scenarios/NAME.yaml``) or by path to a YAML file."""
    path = _locate(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the scenario file: {exc.strerror}", location=display_path(path)) from None
    return parse_scenario(text, path)


def list_scenarios() -> list[Scenario]:
    """Every scenario in the scenarios folder, by id; problems in any file are all reported together."""
    scenarios: list[Scenario] = []
    lines: list[str] = []
    for path in scenario_files():
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as exc:
            lines += exc.lines
        except InputError as exc:
            lines.append(str(exc))
    if lines:
        raise ScenarioError(lines)
    return sorted(scenarios, key=lambda scenario: scenario.id)


def scenario_names() -> list[str]:
    return [path.stem for path in scenario_files()]


def scenario_files() -> list[Path]:
    folder = paths.SCENARIOS_DIR
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if path.suffix in SUFFIXES and path.is_file())


def _locate(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    looks_like_path = isinstance(name_or_path, Path) or text.endswith(SUFFIXES) or "/" in text or "\\" in text
    if looks_like_path:
        path = Path(text).expanduser()
        if not path.is_file():
            raise InputError(f"scenario file {text!r} does not exist", field="--scenario",
                             fix="give a path to a YAML file or a scenario name")
        return path
    for suffix in SUFFIXES:
        candidate = paths.SCENARIOS_DIR / f"{text}{suffix}"
        if candidate.is_file():
            return candidate
    names = scenario_names()
    known = f"known: {', '.join(names)}" if names else f"no scenarios found in {paths.SCENARIOS_DIR}"
    raise InputError(f"unknown scenario {text!r}", field="--scenario", fix=known)


def _name_issues(located: Located, path: Path) -> list[Issue]:
    # A scenario in the shared folder is run by its file name, so the id must be that name.
    data = located.data
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return []
    in_folder = path.resolve().parent == paths.SCENARIOS_DIR.resolve()
    if in_folder and data["id"] != path.stem:
        return [Issue(("id",), f"id {data['id']!r} differs from the file name {path.name!r}",
                      f"rename the file to {data['id']}{path.suffix} or set id: {path.stem}")]
    return []


def _render(issues: list[Issue], located: Located, shown: str) -> list[str]:
    placed = sorted(((issue.line or located.line_of(issue.path), issue) for issue in issues),
                    key=lambda pair: pair[0])
    rendered: list[str] = []
    for line, issue in placed:
        text = issue.render(shown, line)
        if text not in rendered:
            rendered.append(text)
    return rendered
