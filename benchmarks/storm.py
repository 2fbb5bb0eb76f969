"""Storm benchmark: N findings through the reference crypto responder on the embedded emulator.

For each storm size (each in a fresh process, so memory figures are its own) it prints per-step latency
percentiles against the SLA, the findings lost (neither remediated nor escalated), throughput and
backlog, the harness's cost per finding (CPU, finding generation, PutEvents), the observers' own calls to
the emulator by phase, and the harness process's memory; then how memory grows with N.
Prints figures; asserts nothing (the machines are shared and noisy).

Usage: python benchmarks/storm.py [--sizes 250,500,1000] [--rate 20] [--resources K] [--time-scale 1]
                                  [--chaos PROFILE] [--verify auto|all|sample] [--trace-memory] [--save DIR]
Each storm's full report is saved as DIR/storm-N.json (default reports/bench-storm/).
``--trace-memory`` also follows the Python heap with tracemalloc (slower) and names where it grew.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TOP_SITES = 16


def _load() -> list[float]:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return []


def _traced_sites(before: Any, after: Any) -> list[str]:
    """Where the Python heap grew between two tracemalloc snapshots, largest first (first project frame)."""
    growth: dict[str, int] = {}
    for stat in after.compare_to(before, "traceback"):
        frames = [frame for frame in stat.traceback if "/simulator/" in frame.filename] or list(stat.traceback)
        frame = frames[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        growth[where] = growth.get(where, 0) + stat.size_diff
    ranked = sorted(growth.items(), key=lambda item: -item[1])[:TOP_SITES]
    return [f"{where} {size / 1024:+.0f} KB" for where, size in ranked]


def one(size: int, args: argparse.Namespace) -> None:
    """Run one storm in this process and print its report as the last line of stdout."""
    from simulator.chaos import load_profile
    from simulator.runner import RunOptions
    from simulator.scenario import load_scenario
    from simulator.storm import StormOptions, render_storm, run_storm

    traced: dict[str, Any] = {}
    if args.trace_memory:
        import tracemalloc

        import simulator.storm as storm_module
        from simulator.chaos.hooks import RunChaos

        tracemalloc.start(10)
        start_injection, fold_until_idle = RunChaos.start_injection, storm_module._fold_until_idle

        # The baseline is taken as publishing begins: clients, observers and findings are in place by then,
        # so what the heap gains until the responder is idle is what the storm itself holds.
        def starting(self: Any, *positional: Any, **named: Any) -> Any:
            traced["started"] = tracemalloc.take_snapshot()
            traced["started_mb"] = tracemalloc.get_traced_memory()[0] / 1024 / 1024
            tracemalloc.reset_peak()
            return start_injection(self, *positional, **named)

        def folded(*positional: Any, **named: Any) -> Any:
            settled = fold_until_idle(*positional, **named)
            traced["stormed"] = tracemalloc.take_snapshot()
            current, peak = tracemalloc.get_traced_memory()
            traced["stormed_mb"], traced["peak_mb"] = current / 1024 / 1024, peak / 1024 / 1024
            return settled

        RunChaos.start_injection = starting  # type: ignore[method-assign]
        storm_module._fold_until_idle = folded  # type: ignore[assignment]

    options = RunOptions(seed=size, time_scale=args.time_scale,
                         progress=lambda message: print(f"    {message}", file=sys.stderr, flush=True))
    load_before = _load()
    started = time.perf_counter()
    report = run_storm(load_scenario("crypto"), options,
                       StormOptions(args.rate, size / args.rate, args.resources, verify=args.verify),
                       f"gdsim-bench-{size}", load_profile(args.chaos) if args.chaos else None)
    data = report.to_dict()
    data["wall_seconds"] = time.perf_counter() - started
    data["load_before"], data["load_after"] = load_before, _load()
    if traced:
        before, after = traced["started"], traced["stormed"]
        # Held once the responder is idle (before effects are confirmed), and the most held at once meanwhile.
        data["traced_mb_grown"] = traced["stormed_mb"] - traced["started_mb"]
        data["traced_mb_peak_grown"] = traced["peak_mb"] - traced["started_mb"]
        data["traced_sites"] = _traced_sites(before, after)
    print(render_storm(report), file=sys.stderr)
    print(json.dumps(data))


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def _storm_added(data: dict[str, Any]) -> float:
    return (data["rss_mb_after_storm"] or 0) - (data["rss_mb_before_storm"] or 0)


def _print(data: dict[str, Any], save: Path) -> None:
    print(f"\n{data['findings']} findings at {data['rate']:g}/s over {data['resources']} instances, "
          f"time scale {data['time_scale']:g}x ({data['wall_seconds']:.0f} s wall; provision "
          f"{data['provision_seconds']:.0f} s, storm {data['settle_seconds']:.0f} s, confirm "
          f"{data['verify_seconds']:.0f} s); load average {data['load_before']} before, {data['load_after']} after")
    print(f"  {'step':<20}{'SLA':>8}{'p50':>9}{'p95':>9}{'p99':>9}{'met':>6}{'late':>6}{'missing':>8}")
    for step in data["steps"]:
        print(f"  {step['id']:<20}{_seconds(step['sla_seconds']):>8}{_seconds(step['p50']):>9}"
              f"{_seconds(step['p95']):>9}{_seconds(step['p99']):>9}{step['met']:>6}{step['late']:>6}"
              f"{step['missing']:>8}")
    print(f"  remediated {data['remediated']}, escalated {data['escalated']}, lost (neither) "
          f"{len(data['unresolved'])}; throughput {data['throughput_per_second']:.2f}/s, backlog max "
          f"{data['backlog_max']}; invocation p50 {data['invocation_ms_p50'] or 0:.0f} ms; responder's slowest calls "
          + ", ".join(f"{name} {ms:.0f} ms" for name, ms in data["slowest_calls"].items()))
    print(f"  harness per finding: {data['harness_cpu_ms_per_finding']:.1f} ms CPU, generate "
          f"{data['generate_ms_per_finding']:.2f} ms, PutEvents p50 {data['put_events_ms_p50'] or 0:.1f} ms")
    print(f"  harness memory: {data['rss_mb_before_storm'] or 0:.0f} MB when the storm began, "
          f"{data['rss_mb_after_storm'] or 0:.0f} MB after the storm (+{_storm_added(data):.1f} MB, "
          f"{_storm_added(data) * 1024 / data['findings']:.1f} KB per finding), peak {data['rss_mb_peak'] or 0:.0f} MB"
          + (f"; Python heap: {data['traced_mb_grown']:+.1f} MB held after the storm, at most "
             f"{data['traced_mb_peak_grown']:+.1f} MB during it" if "traced_mb_grown" in data else ""))
    if data.get("traced_sites"):
        print(f"  heap growth by site: {'; '.join(data['traced_sites'])}")
    calls = data.get("observer_calls", {})
    print("  observer calls to the emulator: " + "; ".join(
        f"{phase} {sum(calls.get(phase, {}).values())}" + (
            f" ({', '.join(f'{op} {n}' for op, n in sorted(calls[phase].items(), key=lambda kv: -kv[1]))})"
            if calls.get(phase) else "") for phase in ("prepare", "storm", "confirm")))
    if data["unresolved"] or data["disagreements"] or data["unconfirmed"]:
        print(f"  {len(data['disagreements'])} disagreement(s), {len(data['unconfirmed'])} check(s) the emulator "
              f"could not answer; see {save / ('storm-' + str(data['findings']) + '.json')}")


def _growth(results: list[dict[str, Any]]) -> None:
    """What the storm itself added, against the smallest storm: the process's size before the storm varies by
    several MB from run to run (allocator, imports), so the comparison is of what each storm added to it."""
    first = results[0]
    print(f"\nmemory the storm added, against {first['findings']} findings "
          f"({_storm_added(first):+.1f} MB resident):")
    for data in results[1:]:
        extra = data["findings"] - first["findings"]
        if extra <= 0:
            continue
        grown = _storm_added(data) - _storm_added(first)
        line = [f"resident {_storm_added(data):+.1f} MB, {grown:+.1f} MB more "
                f"({grown * 1024 / extra:+.1f} KB per extra finding)"]
        for key, label in (("traced_mb_grown", "heap held"), ("traced_mb_peak_grown", "heap peak")):
            if key in data and key in first:
                grown = data[key] - first[key]
                line.append(f"{label} {data[key]:+.1f} MB, {grown:+.1f} MB more "
                            f"({grown * 1024 / extra:+.1f} KB per extra finding)")
        print(f"  {data['findings']} findings: " + "; ".join(line))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="250,500,1000", help="storm sizes (findings), comma-separated")
    parser.add_argument("--rate", type=float, default=20.0, help="findings published per second")
    parser.add_argument("--resources", type=int, help="instances to spread findings over (default 50)")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--chaos", help="a chaos profile to storm under")
    parser.add_argument("--verify", choices=("auto", "all", "sample"), default="auto")
    parser.add_argument("--trace-memory", action="store_true", help="follow the Python heap too (slower)")
    parser.add_argument("--save", type=Path, default=ROOT / "reports" / "bench-storm",
                        help="where each storm's report is saved")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one, args)
        return

    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; load average {_load()}", flush=True)
    results = []
    for size in (int(text) for text in args.sizes.split(",")):
        command = [sys.executable, __file__, "--one", str(size), "--rate", str(args.rate),
                   "--time-scale", str(args.time_scale), "--verify", args.verify]
        if args.resources:
            command += ["--resources", str(args.resources)]
        if args.chaos:
            command += ["--chaos", args.chaos]
        if args.trace_memory:
            command.append("--trace-memory")
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
        _print(data, args.save)
    if len(results) >= 2:
        _growth(results)


if __name__ == "__main__":
    main()
