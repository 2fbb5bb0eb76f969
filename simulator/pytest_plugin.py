"""pytest plugin: test your own GuardDuty responder against a scenario in a few lines.

    @pytest.mark.gdsim(scenario="crypto", responder="my_responder.py:handler")
    def test_runbook(gdsim_result):
        gdsim_result.assert_passed()

    def test_quarantine(gdsim_run):
        assert gdsim_run("crypto", responder=my_handler).step("quarantine").verdict == "met"

    @pytest.mark.gdsim(scenarios="runbooks/", responder="my_responder.py:handler")
    def test_every_runbook(gdsim_scenario, gdsim_result):     # one test per scenario, named by its id
        gdsim_result.assert_passed()

A test that asks for ``gdsim_scenario`` runs once per scenario of the marker's ``scenarios=`` (names, files or a
folder; default: every scenario in scenarios/), and ``gdsim_result``/``gdsim_run`` run that scenario. Markers on
the module, class and test are merged, the closest winning: a module's ``pytestmark = pytest.mark.gdsim(
time_scale=30)`` holds for every test that does not say otherwise.

One emulator per test session (per xdist worker); every run forks a fresh sandbox from it. The work is done by
:mod:`simulator.api`, which needs no pytest. Command-line options: ``--gdsim-time-scale``, ``--gdsim-seed``,
``--gdsim-report-dir`` (writes every run's reports there); each has a fixture to override per test or module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

# The harness is imported on first use only: every pytest session of an environment with gdsim installed
# loads this plugin, and most of them never run a scenario.
DEFAULT_TIME_SCALE = 60.0  # simulator.runner.DEFAULT_TIME_SCALE, checked by the plugin's tests
DEFAULT_SEED = 1
MARKER = "gdsim"
MARKER_OPTIONS = ("scenario", "scenarios", "responder", "time_scale", "seed")
SCENARIO_FIXTURE = "gdsim_scenario"
_RESULTS = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gdsim", "GuardDuty responder scenarios (gdsim)")
    group.addoption("--gdsim-time-scale", type=float, default=None, metavar="F",
                    help=f"runbook seconds per wall second for every scenario run (default {DEFAULT_TIME_SCALE:g})")
    group.addoption("--gdsim-seed", type=int, default=None, metavar="N",
                    help=f"seed of the generated findings (default {DEFAULT_SEED}; a failure prints its repro)")
    group.addoption("--gdsim-report-dir", type=Path, default=None, metavar="DIR",
                    help="write every run's reports (json, junit, md, html) under DIR/<test>/")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(scenario=NAME|FILE, scenarios=[NAME|FILE, ...]|FOLDER, responder=SPEC|FUNCTION, time_scale=F, "
        "seed=N): the scenario (and its options) that the gdsim_result fixture runs and gdsim_run uses by default; "
        f"a test asking for {SCENARIO_FIXTURE} runs once per scenario of `scenarios` (default: every one)")


def pytest_report_header(config: pytest.Config) -> str:
    scale = config.getoption("--gdsim-time-scale") or DEFAULT_TIME_SCALE
    seed = config.getoption("--gdsim-seed")
    return f"gdsim: time scale {scale:g}x, seed {seed if seed is not None else DEFAULT_SEED}"


@pytest.fixture
def gdsim_time_scale(request: pytest.FixtureRequest) -> float:
    """Runbook seconds per wall second (override this fixture, or pass --gdsim-time-scale)."""
    value = request.config.getoption("--gdsim-time-scale")
    return float(value) if value is not None else DEFAULT_TIME_SCALE


@pytest.fixture
def gdsim_seed(request: pytest.FixtureRequest) -> int:
    """Seed of the generated findings (override this fixture, or pass --gdsim-seed)."""
    value = request.config.getoption("--gdsim-seed")
    return int(value) if value is not None else DEFAULT_SEED


@pytest.fixture(scope="session")
def gdsim_emulator() -> Iterator[Any]:
    """One warm moto emulator for the session; each run forks a fresh, isolated sandbox from it."""
    from simulator.targets.moto import MotoForkServer

    with MotoForkServer() as server:
        yield server


@pytest.fixture
def gdsim_sandbox(gdsim_emulator: Any) -> Iterator[Any]:
    """A fresh sandbox (endpoint, credentials, boto3 clients) of its own for this test, stopped afterwards."""
    target = gdsim_emulator.target()
    try:
        yield target.start()
    finally:
        target.stop()


def _markers(node: Any) -> Iterator[dict[str, Any]]:
    """The options of each gdsim marker on a test, closest first (test, class, module)."""
    for marker in node.iter_markers(MARKER):
        given = dict(marker.kwargs)
        if marker.args:
            given.setdefault("scenario", marker.args[0])
        unknown = sorted(set(given) - set(MARKER_OPTIONS))
        if unknown:
            raise pytest.UsageError(f"@pytest.mark.{MARKER}: unknown option(s) {', '.join(unknown)} "
                                    f"(it takes {', '.join(MARKER_OPTIONS)})")
        if "scenario" in given and "scenarios" in given:
            raise pytest.UsageError(f"@pytest.mark.{MARKER}: give scenario=NAME (one) or scenarios=[...] "
                                    "(the ones gdsim_scenario ranges over), not both")
        yield given


def _marker_options(node: Any) -> dict[str, Any]:
    """The gdsim marker options of a test: its module's, class's and own markers merged, the closest winning."""
    options: dict[str, Any] = {}
    for given in _markers(node):
        for key, value in given.items():
            options.setdefault(key, value)
    return options


def _scenario_selection(node: Any) -> Any:
    """What gdsim_scenario ranges over: the closest marker's ``scenarios`` (or its one ``scenario``); None: all."""
    for given in _markers(node):
        if "scenarios" in given:
            return given["scenarios"]
        if "scenario" in given:
            return [given["scenario"]]
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test asking for gdsim_scenario runs once per selected scenario, its id the scenario's."""
    if SCENARIO_FIXTURE not in metafunc.fixturenames:
        return
    selection = _scenario_selection(metafunc.definition)
    from simulator.api import select_scenarios
    from simulator.errors import GdsimError

    problem = None
    try:
        scenarios = select_scenarios(selection)
    except GdsimError as error:
        problem = str(error)
    if problem is not None:
        # A collection error naming the bad scenario, not a traceback through the plugin.
        pytest.fail(f"@pytest.mark.{MARKER}(scenarios=...): {problem}", pytrace=False)
    metafunc.parametrize(SCENARIO_FIXTURE, scenarios, ids=[scenario.id for scenario in scenarios], indirect=True)


@pytest.fixture
def gdsim_scenario(request: pytest.FixtureRequest) -> Any:
    """The Scenario this run of the test is about: a test asking for this fixture runs once per scenario of its
    marker's ``scenarios=`` (default: every scenario in scenarios/); gdsim_result and gdsim_run run it."""
    return request.param


def _report_dir(request: pytest.FixtureRequest, count: int) -> Path | None:
    base = request.config.getoption("--gdsim-report-dir")
    if base is None:
        return None
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid).strip("_")
    return Path(base) / (name if count == 0 else f"{name}-{count + 1}")


RunScenario = Callable[..., Any]


@pytest.fixture
def gdsim_run(request: pytest.FixtureRequest, gdsim_emulator: Any, gdsim_time_scale: float,
              gdsim_seed: int) -> RunScenario:
    """``gdsim_run(scenario=None, responder=None, *, time_scale=None, seed=None) -> ScenarioResult``: run a
    scenario on a fresh sandbox; an unspecified scenario is the test's ``gdsim_scenario``, else its marker's, and
    the other arguments come from the test's gdsim markers, then the fixtures.
    Harness failures are raised in the test; a responder's misses are in the result."""
    defaults = _marker_options(request.node)
    defaults.pop("scenarios", None)
    if SCENARIO_FIXTURE in request.fixturenames:
        defaults["scenario"] = request.getfixturevalue(SCENARIO_FIXTURE)
    results: list[Any] = request.node.stash.setdefault(_RESULTS, [])

    def run(scenario: Any = None, responder: Any = None, *, time_scale: float | None = None,
            seed: int | None = None) -> Any:
        from simulator.api import run as run_scenario

        chosen = scenario if scenario is not None else defaults.get("scenario")
        if chosen is None:
            raise pytest.UsageError("gdsim_run: say which scenario to run: gdsim_run('crypto'), "
                                    f"@pytest.mark.{MARKER}(scenario='crypto') or the {SCENARIO_FIXTURE} fixture")
        from simulator.api import HarnessError
        from simulator.errors import GdsimError

        problem = None
        try:
            result = run_scenario(
                chosen,
                responder=responder if responder is not None else defaults.get("responder"),
                time_scale=time_scale if time_scale is not None else defaults.get("time_scale", gdsim_time_scale),
                seed=seed if seed is not None else defaults.get("seed", gdsim_seed),
                emulator=gdsim_emulator,
                report_dir=_report_dir(request, len(results)),
            )
        except HarnessError:
            raise  # a fault of the harness itself: its traceback matters
        except GdsimError as error:
            problem = str(error)
        if problem is not None:
            # Bad input (unknown scenario, missing responder file): its one line says what to fix.
            pytest.fail(f"gdsim: {problem}", pytrace=False)
        results.append(result)
        return result

    return run


@pytest.fixture
def gdsim_result(request: pytest.FixtureRequest, gdsim_run: RunScenario) -> Any:
    """The ScenarioResult of the test's scenario: its ``gdsim_scenario``, else the one its
    ``@pytest.mark.gdsim(scenario=...)`` names."""
    if SCENARIO_FIXTURE not in request.fixturenames and "scenario" not in _marker_options(request.node):
        raise pytest.UsageError(f"the gdsim_result fixture needs @pytest.mark.{MARKER}(scenario=...) on the test "
                                f"or the {SCENARIO_FIXTURE} fixture")
    return gdsim_run()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if report.failed and call.when == "call":
        from simulator.reports.redact import redact_text
        from simulator.reports.table import render_scenario

        for result in item.stash.get(_RESULTS, []):
            report.sections.append((f"gdsim {result.id}", redact_text(render_scenario(result))))
    return report
