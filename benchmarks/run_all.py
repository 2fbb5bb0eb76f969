"""Wall time of `simulate run --all` serially and with -j 2, and whether both give the same verdicts.

Prints figures; asserts nothing. Target: every scenario in under a minute on this machine's 2 cores.
Usage: python benchmarks/run_all.py [SEED]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_all(jobs: int, seed: int, report_dir: Path) -> tuple[float, dict[str, tuple[str, tuple[str, ...]]]]:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "simulator", "run", "--all", "-j", str(jobs), "--seed", str(seed),
                    "--quiet", "--report-dir", str(report_dir)], cwd=ROOT, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    report = json.loads((report_dir / "report.json").read_text())
    verdicts = {s["id"]: (s["verdict"], tuple(step["verdict"] for step in s["steps"])) for s in report["scenarios"]}
    return elapsed, verdicts


def main() -> None:
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    with tempfile.TemporaryDirectory() as reports:
        serial, serial_verdicts = run_all(1, seed, Path(reports) / "j1")
        parallel, parallel_verdicts = run_all(2, seed, Path(reports) / "j2")
    passed = sum(1 for verdict, _ in serial_verdicts.values() if verdict == "pass")
    print(f"simulate run --all: {len(serial_verdicts)} scenarios, {passed} passed (seed {seed})")
    print(f"  -j 1: {serial:.1f} s   -j 2: {parallel:.1f} s   (target: under 60 s)")
    print(f"  same verdicts with -j 1 and -j 2: {serial_verdicts == parallel_verdicts}")


if __name__ == "__main__":
    main()
