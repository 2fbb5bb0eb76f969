"""Wall time of `simulate run --all` serially (-j 1) and with -j 2, and whether both give the same verdicts.

Prints figures; asserts nothing. Target: every scenario in under a minute on this machine's 2 cores, and the
same verdicts (each scenario's findings, verdict, step verdicts and invariants) whatever -j is.
Usage: python benchmarks/run_all.py [--seed N] [--time-scale F] [--jobs 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class AllRun:
    jobs: int
    seconds: float
    exit_code: int
    load_before: float
    load_after: float
    verdicts: dict[str, Any]

    @property
    def passed(self) -> int:
        return sum(1 for verdict in self.verdicts.values() if verdict["verdict"] == "pass")


def verdicts_of(report: dict[str, Any]) -> dict[str, Any]:
    """What must not depend on parallelism: each scenario's findings, verdict, step verdicts and invariants."""
    return {
        scenario["id"]: {
            "finding_ids": scenario.get("finding_ids"),
            "verdict": scenario["verdict"],
            "steps": [(step["id"], step["verdict"]) for step in scenario["steps"]],
            "invariants": [(invariant["id"], invariant["held"]) for invariant in scenario["invariants"]],
        }
        for scenario in report["scenarios"]
    }


def run_all(jobs: int, seed: int, time_scale: float, report_dir: Path) -> AllRun:
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "simulator", "run", "--all", "-j", str(jobs), "--seed", str(seed),
                           "--time-scale", f"{time_scale:g}", "--quiet", "--report-dir", str(report_dir)],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    report_file = report_dir / "report.json"
    if not report_file.exists():
        sys.exit(f"-j {jobs}: no report (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    report = json.loads(report_file.read_text())
    return AllRun(jobs, elapsed, done.returncode, load_before, os.getloadavg()[0], verdicts_of(report))


def differences(serial: dict[str, Any], parallel: dict[str, Any]) -> list[str]:
    lines = []
    for scenario_id in sorted(set(serial) | set(parallel)):
        left, right = serial.get(scenario_id), parallel.get(scenario_id)
        if left != right:
            fields = sorted(key for key in {*(left or {}), *(right or {})}
                            if (left or {}).get(key) != (right or {}).get(key))
            shown = [f"{key} {(left or {}).get(key)} -> {(right or {}).get(key)}" for key in fields if key != "verdict"]
            lines.append(f"    {scenario_id}: {'; '.join(shown or fields)}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-scale", type=float, default=30.0,
                        help="runbook seconds per wall second (default 30, the scenario suite's)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="the -j values to compare")
    parser.add_argument("--report-dir", type=Path, help="keep each run's reports under DIR/j<N>/")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        reports = args.report_dir or Path(scratch)
        runs = [run_all(jobs, args.seed, args.time_scale, reports / f"j{jobs}") for jobs in args.jobs]
    serial = runs[0]
    print(f"simulate run --all: {len(serial.verdicts)} scenarios, seed {args.seed}, time scale {args.time_scale:g}x, "
          f"{os.cpu_count()} cores")
    for run in runs:
        speedup = f"  ({serial.seconds / run.seconds:.2f}x -j {serial.jobs})" if run is not serial else ""
        print(f"  -j {run.jobs}: {run.seconds:6.1f} s{speedup}   {run.passed}/{len(run.verdicts)} passed, "
              f"exit {run.exit_code}   load average {run.load_before:.1f} -> {run.load_after:.1f}")
    for run in runs[1:]:
        diff = differences(serial.verdicts, run.verdicts)
        print(f"  same verdicts with -j {serial.jobs} and -j {run.jobs} (findings, steps, invariants): {not diff}")
        for line in diff:
            print(line)


if __name__ == "__main__":
    main()
