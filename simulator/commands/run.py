"""`simulate [run] --scenario NAME|FILE` and `simulate run --all`: run scenarios and judge them."""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.util
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.errors import InputError, UsageError
from simulator.paths import REPORTS_DIR
from simulator.runner import DEFAULT_TIME_SCALE, RunOptions, new_run_id, run_scenario

if TYPE_CHECKING:
    from simulator.progress import Progress
    from simulator.reports import ScenarioResult
    from simulator.scenario import Scenario

TARGETS = ("moto", "localstack", "aws")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--scenario", action="append", metavar="NAME|FILE",
                       help="a scenario name from scenarios/ or a path to a scenario file (repeatable)")
    which.add_argument("--all", action="store_true", help="run every scenario in scenarios/")
    parser.add_argument("--target", default="moto", help="where to build the sandbox: moto (default)")
    parser.add_argument("--responder", metavar="MODULE:FUNC|FILE.py:FUNC|stepfunctions:FILE.asl.json",
                        help="test this handler or state machine instead of the scenario's reference responder")
    parser.add_argument("--chaos", metavar="PROFILE", help="a chaos profile name or file")
    parser.add_argument("--time-scale", type=float, default=DEFAULT_TIME_SCALE, metavar="F",
                        help=f"runbook seconds per wall second (default {DEFAULT_TIME_SCALE:g}: "
                             "a runbook minute passes in one second)")
    parser.add_argument("--seed", type=int, help="reproduce a run's findings exactly")
    parser.add_argument("--report-dir", type=Path, metavar="DIR",
                        help="where to write the run's reports (default reports/<run-id>/)")
    parser.add_argument("--endpoint-url", metavar="URL", help="LocalStack endpoint")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="scenarios run in parallel")
    parser.add_argument("--quiet", action="store_true", help="print only the summary table")


def _check(args: argparse.Namespace) -> None:
    """Every flag is checked before anything is started or provisioned."""
    if not args.scenario and not args.all:
        raise UsageError("say which scenario to run: --scenario NAME|FILE or --all "
                         "(`simulate list scenarios` shows them)")
    if args.target not in TARGETS:
        raise UsageError(f"--target {args.target!r} is not one of {', '.join(TARGETS)}")
    if args.target != "moto":
        raise UsageError(f"--target {args.target}: not available in this version; use --target moto")
    if args.chaos:
        from simulator.chaos import load_profile

        load_profile(args.chaos)  # a bad name or file is refused here, before any sandbox exists
    if not args.time_scale > 0:
        raise UsageError(f"--time-scale {args.time_scale:g}: must be a positive number (e.g. 60)")
    if args.jobs < 1:
        raise UsageError(f"-j {args.jobs}: must be 1 or more")
    if args.responder:
        check_responder(args.responder)


def check_responder(text: str) -> None:
    """Find the handler without running its module, so a typo is refused before any sandbox exists."""
    from simulator.stepfunctions import check_state_machine_responder, is_state_machine_responder

    if is_state_machine_responder(text):
        try:
            check_state_machine_responder(text)
        except InputError as exc:
            raise UsageError(f"--responder {text!r}: {exc}") from None
        return
    if ":" not in text:
        raise UsageError(f"--responder {text!r}: write MODULE:FUNCTION or FILE.py:FUNCTION")
    target, function = text.rsplit(":", 1)
    if target.endswith(".py") or "/" in target:
        path = Path(target)
        if not path.is_file():
            raise UsageError(f"--responder {text!r}: file {target} does not exist")
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, UnicodeDecodeError, OSError) as exc:
            raise UsageError(f"--responder {text!r}: {target} cannot be read as Python ({exc})") from None
        defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
        defined |= {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                    if isinstance(t, ast.Name)}
        defined |= {alias.asname or alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
                    for alias in node.names}
        if function not in defined:
            raise UsageError(f"--responder {text!r}: {target} defines no {function!r} at top level")
        return
    try:
        found = importlib.util.find_spec(target)
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise UsageError(f"--responder {text!r}: no module {target!r} importable from here "
                         "(run from your project's root, or give FILE.py:FUNCTION)")


def run(args: argparse.Namespace) -> int:
    from simulator.progress import Progress
    from simulator.reports import RunReport, render_table
    from simulator.reports.writer import write_reports
    from simulator.scenario import list_scenarios, load_scenario

    _check(args)
    scenarios = list_scenarios() if args.all else [load_scenario(name) for name in args.scenario]
    run_id = new_run_id()
    options = RunOptions(
        target=args.target, responder=args.responder, time_scale=args.time_scale,
        report_dir=args.report_dir, endpoint_url=args.endpoint_url, chaos=args.chaos,
    )
    if args.seed is not None:
        options.seed = args.seed
    with Progress(sys.stderr, total=len(scenarios), enabled=not args.quiet) as progress:
        options.progress = progress.say
        results = _run_all(scenarios, options, run_id, jobs=args.jobs, progress=progress)
    report = RunReport(run_id=run_id, target=args.target, time_scale=options.time_scale,
                       seed=options.seed, scenarios=results, responder=args.responder, chaos=args.chaos)
    report_dir = args.report_dir or (REPORTS_DIR / run_id)
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = write_reports(report, report_dir)
    print(render_table(report))
    print(f"\nreport: {paths['json']}  (scorecard: {paths['html']})")
    return 0 if report.passed else 1


def _run_all(scenarios: list, options: RunOptions, run_id: str, *, jobs: int, progress: Progress) -> list:
    """Run scenarios, in parallel threads when jobs > 1; results keep the scenarios' order."""
    if len(scenarios) == 1:
        return [_run_one(scenarios[0], options, run_id, progress)]
    from simulator.targets.moto import MotoForkServer

    with contextlib.ExitStack() as stack:
        if options.target == "moto":
            # One warm emulator forks a fresh, isolated sandbox per scenario in milliseconds.
            options.fork_server = stack.enter_context(MotoForkServer())
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="scenario") as pool:
            futures = [
                pool.submit(_run_one, scenario, options, f"{run_id}-{scenario.id}", progress)
                for scenario in scenarios
            ]
            try:
                return [future.result() for future in futures]
            except KeyboardInterrupt:
                options.cancel.set()
                for future in futures:
                    future.cancel()
                raise


def _run_one(scenario: Scenario, options: RunOptions, run_id: str, progress: Progress) -> ScenarioResult:
    from simulator.reports import verdict_line

    if options.cancel.is_set():
        raise KeyboardInterrupt
    options.say(f"[{scenario.id}] {scenario.title}")
    result = run_scenario(scenario, options, run_id)
    progress.finish(scenario.id, result.verdict, verdict_line(result))
    return result
