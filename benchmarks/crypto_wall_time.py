"""Cold wall time of `simulate --scenario crypto` (fresh process, fresh emulator each run).

Prints figures; asserts nothing (the machines are shared and noisy). Target: median under 2 s on 2 cores.
Usage: python benchmarks/crypto_wall_time.py [RUNS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    simulate = [sys.executable, "-m", "simulator"]
    durations = []
    with tempfile.TemporaryDirectory() as reports:
        for index in range(runs):
            started = time.perf_counter()
            result = subprocess.run(
                [*simulate, "--scenario", "crypto", "--seed", str(index), "--quiet",
                 "--report-dir", os.path.join(reports, str(index))],
                cwd=ROOT, capture_output=True, text=True, check=False,
            )
            durations.append(time.perf_counter() - started)
            if result.returncode != 0:
                print(result.stdout + result.stderr)
                print(f"run {index} exited {result.returncode}")
    print(f"simulate --scenario crypto, {runs} cold runs")
    print(f"  median {statistics.median(durations):.2f} s   min {min(durations):.2f} s   "
          f"max {max(durations):.2f} s   (target: median < 2 s)")


if __name__ == "__main__":
    main()
