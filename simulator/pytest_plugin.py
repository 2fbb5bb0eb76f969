"""pytest plugin: test your own GuardDuty responder against a scenario in a few lines.

    @pytest.mark.gdsim(scenario="crypto", responder="my_responder.py:handler")
    def test_runbook(gdsim_result):
        gdsim_result.assert_passed()

    def test_quarantine(gdsim_run):
        assert gdsim_run("crypto", responder=my_handler).step("quarantine").verdict == "met"

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
        f"{MARKER}(scenario=NAME|FILE, responder=SPEC|FUNCTION, time_scale=F, seed=N): the scenario (and its "
        "options) that the gdsim_result fixture runs and gdsim_run uses by default")


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


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return {}
    options = dict(marker.kwargs)
    if marker.args:
        options.setdefault("scenario", marker.args[0])
    unknown = sorted(set(options) - {"scenario", "responder", "time_scale", "seed"})
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: unknown option(s) {', '.join(unknown)} "
                                "(it takes scenario, responder, time_scale, seed)")
    return options


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
    scenario on a fresh sandbox; unspecified arguments come from the test's gdsim marker, then the fixtures.
    Harness failures are raised in the test; a responder's misses are in the result."""
    defaults = _marker_options(request)
    results: list[Any] = request.node.stash.setdefault(_RESULTS, [])

    def run(scenario: Any = None, responder: Any = None, *, time_scale: float | None = None,
            seed: int | None = None) -> Any:
        from simulator.api import run as run_scenario

        chosen = scenario if scenario is not None else defaults.get("scenario")
        if chosen is None:
            raise pytest.UsageError("gdsim_run: say which scenario to run: gdsim_run('crypto') or "
                                    f"@pytest.mark.{MARKER}(scenario='crypto')")
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
    """The ScenarioResult of the scenario named by the test's ``@pytest.mark.gdsim(scenario=...)``."""
    if "scenario" not in _marker_options(request):
        raise pytest.UsageError(f"the gdsim_result fixture needs @pytest.mark.{MARKER}(scenario=...) on the test")
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
