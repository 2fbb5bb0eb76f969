"""Run a scenario from Python, without pytest: the core that the pytest plugin is a thin layer over.

    from simulator.api import run
    result = run("crypto", responder="my_responder.py:handler", time_scale=600, seed=7)
    assert result.step("quarantine").verdict == "met"
    result.assert_passed()

    for scenario in select_scenarios():          # every runbook in scenarios/, or a folder or names of your own
        run(scenario).assert_passed()
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.delivery.handler_spec import parse_handler_spec
from simulator.errors import GdsimError, UsageError
from simulator.reports.explain import ScenarioFailed, assert_passed, explain
from simulator.runner import DEFAULT_TIME_SCALE, RunOptions, new_run_id, run_scenario

if TYPE_CHECKING:
    from simulator.reports.model import ScenarioResult
    from simulator.scenario import Scenario
    from simulator.targets.moto import MotoForkServer

__all__ = ["DEFAULT_TIME_SCALE", "HarnessError", "ScenarioFailed", "assert_passed", "explain", "responder_spec",
           "run", "select_scenarios"]

Responder = str | Path | Callable[..., Any]
ScenarioSelection = str | Path | Iterable["str | Path | Scenario"]


class HarnessError(GdsimError):
    """The harness itself went wrong during a run (not the responder): the run's verdicts cannot be trusted."""


def responder_spec(responder: Responder | None) -> str | None:
    """The handler spec for ``responder``: a ``MODULE:FUNC`` or ``FILE.py:FUNC`` string, a path to a file whose
    ``handler`` function is the responder, or a module-level function (run from its file in its own process)."""
    if responder is None:
        return None
    if callable(responder) and not isinstance(responder, str | Path):
        source = inspect.getsourcefile(responder)
        name = getattr(responder, "__name__", "")
        if not source or getattr(responder, "__qualname__", name) != name or not name.isidentifier():
            raise UsageError(f"responder {responder!r}: pass a module-level function (it runs in its own process, "
                             "imported from its file) or a 'FILE.py:FUNCTION' string")
        return f"{Path(source).resolve()}:{name}"
    text = str(responder)
    if isinstance(responder, Path) or (text.endswith(".py") and ":" not in Path(text).name):
        text = f"{Path(text).resolve()}:handler"
    spec = parse_handler_spec(text)
    return spec.as_arg()


def _load(scenario: str | Path | Scenario) -> Scenario:
    if isinstance(scenario, str | Path):
        from simulator.scenario import load_scenario

        return load_scenario(str(scenario))
    return scenario


def select_scenarios(selection: ScenarioSelection | None = None) -> list[Scenario]:
    """The scenarios a suite runs, loaded and validated: every scenario in scenarios/ (``None``), every scenario
    file in a folder (a path to it), or the given names, files and Scenarios in their order. Problems in any of
    them are reported together, one line each, in a ScenarioError."""
    from simulator.scenario import ScenarioError, list_scenarios
    from simulator.yamlfiles import SUFFIXES

    if selection is None:
        return list_scenarios()
    if isinstance(selection, str | Path):
        folder = Path(selection)
        if not folder.is_dir():
            raise UsageError(f"scenarios {str(selection)!r}: not a folder; give a folder of scenario files or a "
                             "list of names and files")
        items: list[str | Path | Scenario] = [*sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES)]
    else:
        items = list(selection)
    scenarios: list[Scenario] = []
    problems: list[str] = []
    for item in items:
        try:
            scenarios.append(_load(item))
        except ScenarioError as error:
            problems += error.lines
        except GdsimError as error:
            problems.append(str(error))
    if problems:
        raise ScenarioError(problems)
    return scenarios


def run(scenario: str | Path | Scenario, *, responder: Responder | None = None,
        time_scale: float = DEFAULT_TIME_SCALE, seed: int | None = None, emulator: MotoForkServer | None = None,
        run_id: str | None = None, report_dir: Path | str | None = None,
        raise_harness_errors: bool = True) -> ScenarioResult:
    """Run ``scenario`` (a name from scenarios/, a file, or a loaded Scenario) against ``responder`` (default:
    the scenario's own) on a fresh sandbox and return its ScenarioResult.

    ``emulator`` is a started MotoForkServer to fork the sandbox from (fast; the plugin keeps one per session);
    without it a moto server process is started for this run. ``report_dir`` also writes every report there.
    Bad input raises a GdsimError before anything starts; a harness failure during the run raises HarnessError
    (unless ``raise_harness_errors`` is False); a responder that misses steps is not an error: check the result.
    """
    if not time_scale > 0:
        raise UsageError(f"time_scale {time_scale!r}: must be a positive number (e.g. 60)")
    loaded = _load(scenario)
    options = RunOptions(responder=responder_spec(responder), time_scale=float(time_scale), fork_server=emulator)
    if seed is not None:
        options.seed = int(seed)
    run_id = run_id or new_run_id()
    result: ScenarioResult = run_scenario(loaded, options, run_id)
    if report_dir is not None:
        from simulator.reports.model import RunReport
        from simulator.reports.writer import write_reports

        write_reports(RunReport(run_id=run_id, target=options.target, time_scale=options.time_scale,
                                seed=options.seed, scenarios=[result], responder=options.responder), report_dir)
    if raise_harness_errors and (result.error or result.harness_errors):
        problems = [result.error] if result.error else []
        raise HarnessError(f"scenario {loaded.id}: the harness failed: {'; '.join([*problems, *result.harness_errors])}"
                           f" (repro: {result.repro})")
    return result
