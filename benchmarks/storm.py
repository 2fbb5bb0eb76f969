"""Storm benchmark: N findings through the reference crypto responder on the embedded emulator.

For each storm size (each in a fresh process, so peak memory is its own) it prints per-step latency
percentiles against the SLA, throughput and backlog, the harness's cost per finding (CPU, finding
generation, PutEvents) and the harness process's memory, then how memory grows with N.
Prints figures; asserts nothing (the machines are shared and noisy).

Usage: python benchmarks/storm.py [--sizes 250,500,1000] [--rate 20] [--resources K] [--time-scale 1]
                                  [--chaos PROFILE] [--save DIR]
Each storm's full report is saved as DIR/storm-N.json (default reports/bench-storm/).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one(size: int, rate: float, resources: int | None, time_scale: float, chaos: str | None) -> None:
    """Run one storm in this process and print its report as the last line of stdout."""
    from simulator.chaos import load_profile
    from simulator.runner import RunOptions
    from simulator.scenario import load_scenario
    from simulator.storm import StormOptions, render_storm, run_storm

    options = RunOptions(seed=size, time_scale=time_scale,
                         progress=lambda message: print(f"    {message}", file=sys.stderr, flush=True))
    started = time.perf_counter()
    report = run_storm(load_scenario("crypto"), options, StormOptions(rate, size / rate, resources),
                       f"gdsim-bench-{size}", load_profile(chaos) if chaos else None)
    data = report.to_dict()
    data["wall_seconds"] = time.perf_counter() - started
    print(render_storm(report), file=sys.stderr)
    print(json.dumps(data))


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,500,1000", help="storm sizes (findings), comma-separated")
    parser.add_argument("--rate", type=float, default=20.0, help="findings published per second")
    parser.add_argument("--resources", type=int, help="instances to spread findings over (default 50)")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--chaos", help="a chaos profile to storm under")
    parser.add_argument("--save", type=Path, default=ROOT / "reports" / "bench-storm",
                        help="where each storm's report is saved")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one, args.rate, args.resources, args.time_scale, args.chaos)
        return

    results = []
    for size in (int(text) for text in args.sizes.split(",")):
        command = [sys.executable, __file__, "--one", str(size), "--rate", str(args.rate),
                   "--time-scale", str(args.time_scale)]
        if args.resources:
            command += ["--resources", str(args.resources)]
        if args.chaos:
            command += ["--chaos", args.chaos]
        print(f"storm of {size} findings at {args.rate:g}/s ...", flush=True)
        # Progress and the storm's own table go to stderr as they come; the figures come back on stdout.
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
        if done.returncode != 0 or not done.stdout.strip():
            print(done.stdout)
            print(f"  storm of {size} failed (exit {done.returncode})")
            continue
        data = json.loads(done.stdout.strip().splitlines()[-1])
        args.save.mkdir(parents=True, exist_ok=True)
        (args.save / f"storm-{size}.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        results.append(data)

    for data in results:
        print(f"\n{data['findings']} findings at {data['rate']:g}/s over {data['resources']} instances, "
              f"time scale {data['time_scale']:g}x ({data['wall_seconds']:.0f} s wall; provision "
              f"{data['provision_seconds']:.0f} s, storm {data['settle_seconds']:.0f} s, verify "
              f"{data['verify_seconds']:.0f} s)")
        print(f"  {'step':<20}{'SLA':>8}{'p50':>9}{'p95':>9}{'p99':>9}{'met':>6}{'late':>6}{'missing':>8}")
        for step in data["steps"]:
            print(f"  {step['id']:<20}{_seconds(step['sla_seconds']):>8}{_seconds(step['p50']):>9}"
                  f"{_seconds(step['p95']):>9}{_seconds(step['p99']):>9}{step['met']:>6}{step['late']:>6}"
                  f"{step['missing']:>8}")
        print(f"  remediated {data['remediated']}, escalated {data['escalated']}, neither "
              f"{len(data['unresolved'])}; throughput {data['throughput_per_second']:.2f}/s, backlog max "
              f"{data['backlog_max']}; invocation p50 {data['invocation_ms_p50'] or 0:.0f} ms")
        print(f"  harness per finding: {data['harness_cpu_ms_per_finding']:.1f} ms CPU, generate "
              f"{data['generate_ms_per_finding']:.2f} ms, PutEvents p50 {data['put_events_ms_p50'] or 0:.1f} ms; "
              f"memory {data['rss_mb_after_provisioning'] or 0:.0f} MB after provisioning, peak "
              f"{data['rss_mb_peak'] or 0:.0f} MB")
        if data["unresolved"] or data["disagreements"] or data["unconfirmed"]:
            print(f"  {len(data['disagreements'])} disagreement(s), {len(data['unconfirmed'])} check(s) the emulator "
                  f"could not answer; see {args.save / ('storm-' + str(data['findings']) + '.json')}")
    if len(results) >= 2:
        first, last = results[0], results[-1]
        extra = last["findings"] - first["findings"]
        growth = (last["rss_mb_peak"] or 0) - (first["rss_mb_peak"] or 0)
        storm_growth = growth - ((last["rss_mb_after_provisioning"] or 0) - (first["rss_mb_after_provisioning"] or 0))
        print(f"\nmemory: peak grows {growth:+.0f} MB from {first['findings']} to {last['findings']} findings "
              f"({growth * 1024 / extra:.1f} KB per finding; {storm_growth * 1024 / extra:.1f} KB per finding "
              "past provisioning)")


if __name__ == "__main__":
    main()
