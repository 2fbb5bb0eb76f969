"""`simulate storm --scenario NAME --rate N --duration T`: a finding storm through one scenario's responder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from simulator.errors import UsageError
from simulator.paths import REPORTS_DIR
from simulator.scenario.durations import parse_duration

# Storms measure queueing against real SLAs, so they run in runbook time unless told otherwise.
DEFAULT_STORM_TIME_SCALE = 1.0


def _duration(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return parse_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (write 30, 30s or 2m)") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", required=True, metavar="NAME|FILE", help="the scenario to fan out")
    parser.add_argument("--rate", type=float, required=True, metavar="N", help="findings published per second")
    parser.add_argument("--duration", type=_duration, required=True, metavar="T",
                        help="how long findings are published (seconds, or 30s, 2m)")
    parser.add_argument("--resources", type=int, metavar="K",
                        help="copies of the finding's resource to spread findings over "
                             "(default: one per finding, at most 50)")
    parser.add_argument("--verify", choices=("auto", "all", "sample"), default="auto",
                        help="confirm every effect with the observers, or a sample (auto: all up to 200 findings)")
    parser.add_argument("--sample", type=int, default=50, metavar="N", help="findings confirmed in a sample")
    parser.add_argument("--chaos", metavar="PROFILE", help="a chaos profile name or file")
    parser.add_argument("--responder", metavar="MODULE:FUNC|FILE.py:FUNC",
                        help="test this handler instead of the scenario's reference responder")
    parser.add_argument("--time-scale", type=float, default=DEFAULT_STORM_TIME_SCALE, metavar="F",
                        help=f"runbook seconds per wall second (default {DEFAULT_STORM_TIME_SCALE:g})")
    parser.add_argument("--seed", type=int, help="reproduce a storm's findings and chaos exactly")
    parser.add_argument("--report-dir", type=Path, metavar="DIR",
                        help="where to write storm.json (default reports/<run-id>/)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")


def run(args: argparse.Namespace) -> int:
    from simulator.chaos import load_profile
    from simulator.progress import Progress
    from simulator.runner import RunOptions, new_run_id
    from simulator.scenario import load_scenario
    from simulator.storm import StormOptions, render_storm, run_storm

    storm = StormOptions(rate=args.rate, duration=args.duration, resources=args.resources, verify=args.verify,
                         sample=args.sample)
    storm.check()
    if not args.time_scale > 0:
        raise UsageError(f"--time-scale {args.time_scale:g}: must be a positive number")
    if args.responder and ":" not in args.responder:
        raise UsageError(f"--responder {args.responder!r}: write MODULE:FUNCTION or FILE.py:FUNCTION")
    scenario = load_scenario(args.scenario)
    profile = load_profile(args.chaos) if args.chaos else None
    run_id = new_run_id()
    options = RunOptions(responder=args.responder, time_scale=args.time_scale, report_dir=args.report_dir)
    if args.seed is not None:
        options.seed = args.seed
    # A live line redrawn in place on a terminal (stage and elapsed time), timestamped plain lines elsewhere.
    with Progress(sys.stderr, total=1, enabled=not args.quiet) as progress:
        options.progress = progress.say
        progress.begin("storm", f"{scenario.id} at {storm.rate:g}/s for {storm.duration:g} s")
        report = run_storm(scenario, options, storm, run_id, profile)
        progress.finish("storm", "pass" if report.exit_code == 0 else "fail",
                        f"{report.findings} findings: {report.remediated} remediated, {report.escalated} escalated, "
                        f"{len(report.unresolved)} neither")
    report_dir = args.report_dir or (REPORTS_DIR / run_id)
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "storm.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    print(render_storm(report))
    print(f"\nreport: {report_dir / 'storm.json'}")
    return report.exit_code
