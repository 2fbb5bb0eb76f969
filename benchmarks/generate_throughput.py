"""Throughput and memory of `simulate generate --all` writing to a file.

Three measurements, each at two --count values (findings per type, 225 types):
  * in process: simulator.cli.main(["generate", ...]) in this interpreter (wall and CPU findings/s);
  * through the CLI: a fresh `python -m simulator generate ...` process, start-up included, with its peak
    resident memory (ru_maxrss);
  * Python heap peak (tracemalloc) in process at the large count and twice it: flat in --count because
    lines are streamed, not kept, and the caches are bounded.
Prints figures; asserts nothing. Usage: python benchmarks/generate_throughput.py [SMALL_COUNT LARGE_COUNT]
The target is >= 20,000 findings/s on one core; on a shared machine read the CPU column.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from simulator.catalog import active_types
from simulator.cli import main as simulate

CHILD = """
import json, resource, sys, time
started = time.perf_counter()
from simulator.cli import main
code = main(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_SELF)
print("BENCH " + json.dumps({"code": code, "cpu": usage.ru_utime + usage.ru_stime,
                             "wall_in_child": time.perf_counter() - started, "maxrss_kb": usage.ru_maxrss}),
      file=sys.stderr)
"""


def args_for(count: int, output: Path) -> list[str]:
    return ["generate", "--all", "--count", str(count), "--seed", "1", "-o", str(output)]


def in_process(count: int, output: Path) -> dict[str, float]:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    assert simulate(args_for(count, output)) == 0
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}


def through_cli(count: int, output: Path) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, *args_for(count, output)], capture_output=True, text=True,
                          check=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    wall = time.perf_counter() - started
    report = json.loads(done.stderr.rsplit("BENCH ", 1)[1])
    return {"wall": wall, "cpu": report["cpu"], "rss_mb": report["maxrss_kb"] / 1024}


def heap_peak(count: int, output: Path) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            assert simulate(args_for(count, output)) == 0
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main() -> None:
    small, large = (int(value) for value in sys.argv[1:3]) if len(sys.argv) > 2 else (20, 200)
    types = len(active_types())
    print(f"simulate generate --all ({types} types) to a file; cores: {os.cpu_count()}; "
          f"load average: {', '.join(f'{value:.2f}' for value in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "findings.jsonl"
        in_process(2, output)  # warm imports, Faker and the catalog so the figures measure generation
        print(f"{'mode':<12} {'count':>6} {'findings':>9} {'wall s':>8} {'cpu s':>7} {'/s wall':>9} {'/s cpu':>9} "
              f"{'MB/file':>8} {'peak MB':>8}")
        for count in (small, large):
            total = count * types
            for mode, measure in (("in-process", in_process), ("cli", through_cli)):
                figures = measure(count, output)
                size_mb = output.stat().st_size / 2**20
                peak = f"{figures['rss_mb']:8.1f}" if "rss_mb" in figures else f"{'-':>8}"
                print(f"{mode:<12} {count:>6} {total:>9} {figures['wall']:>8.2f} {figures['cpu']:>7.2f} "
                      f"{total / figures['wall']:>9.0f} {total / figures['cpu']:>9.0f} {size_mb:>8.1f} {peak}")
        # Caches (fleet resources, serialised sections) fill during the first ~100 findings per type and are
        # bounded; past that the heap does not grow with --count.
        low, high = large, 2 * large
        first, second = heap_peak(low, output), heap_peak(high, output)
        print(f"python heap peak (tracemalloc): --count {low}: {first:.1f} MB, --count {high}: {second:.1f} MB "
              f"({high / low:.0f}x the findings, {second / max(first, 1e-9):.2f}x the memory)")
        print(f"resident peak of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
