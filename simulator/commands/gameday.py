"""`simulate gameday --plan FILE`: inject a plan's findings at their times while automation and people respond,
with a live scoreboard, and write the after-action report."""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path

from simulator.errors import UsageError
from simulator.paths import REPORTS_DIR


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plan", required=True, type=Path, metavar="FILE",
                        help="the game-day plan (YAML; gamedays/README.md describes it)")
    parser.add_argument("--check", action="store_true",
                        help="validate the plan and print its schedule; start nothing")
    parser.add_argument("--seed", type=int, metavar="N", help="override the plan's seed (same seed, same schedule)")
    parser.add_argument("--time-scale", type=float, metavar="F", help="override the plan's time scale")
    parser.add_argument("--report-dir", type=Path, metavar="DIR",
                        help="where to write the after-action report (default reports/<run-id>/)")
    parser.add_argument("--quiet", action="store_true", help="no live scoreboard; print only the report")


def _check(args: argparse.Namespace) -> None:
    if args.time_scale is not None and not args.time_scale > 0:
        raise UsageError(f"--time-scale {args.time_scale:g}: must be a positive number (e.g. 60)")
    if args.seed is not None and args.seed < 0:
        raise UsageError(f"--seed {args.seed}: must be 0 or more")


def run(args: argparse.Namespace) -> int:
    from simulator.gameday import GameDay, build_report, build_schedule, load_plan, render_schedule
    from simulator.gameday.render import render_terminal, write_after_action
    from simulator.reports import RunReport
    from simulator.reports.writer import write_reports
    from simulator.runner import new_run_id

    _check(args)
    loaded = load_plan(args.plan, time_scale=args.time_scale, seed=args.seed)
    plan = loaded.plan
    seed = plan.seed if plan.seed is not None else secrets.randbelow(2**31)
    schedule = build_schedule(loaded, seed)
    print(render_schedule(loaded, schedule, seed=seed, time_scale=plan.time_scale), flush=True)
    if args.check:
        print(f"plan {loaded.shown_path} is valid: {len(schedule)} finding(s); nothing was started")
        return 0

    run_id = new_run_id()
    report_dir = args.report_dir or (REPORTS_DIR / run_id)
    game = GameDay(loaded=loaded, schedule=schedule, run_id=run_id, time_scale=plan.time_scale,
                   report_dir=report_dir, pointer_dir=REPORTS_DIR, stream=sys.stderr, quiet=args.quiet)
    played = game.play()
    after = build_report(played.tracker, name=plan.name, description=plan.description, plan=loaded.shown_path,
                         run_id=run_id, seed=seed, time_scale=plan.time_scale, window_seconds=plan.window_seconds,
                         interrupted=played.interrupted, started_at=played.started_at,
                         wall_seconds=played.wall_seconds, harness_errors=played.harness_errors)
    details = None
    if played.results:
        run_report = RunReport(run_id=run_id, target=plan.target, time_scale=plan.time_scale, seed=seed,
                               scenarios=played.results)
        details = write_reports(run_report, report_dir)
    paths = write_after_action(after, report_dir, with_run_report=details is not None)
    print(render_terminal(after))
    print(f"\nafter-action report: {paths['markdown']}  (page: {paths['html']}; data: {paths['json']})")
    if played.interrupted:
        print(f"simulate: game day interrupted; every sandbox torn down; partial report in {report_dir}",
              file=sys.stderr)
    return after.exit_code
