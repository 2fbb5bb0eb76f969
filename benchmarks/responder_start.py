"""Cold versus warm start of a responder in the function runtime.

Prints, for N invocations of each kind, how long after dispatch the handler's first line ran, and
how long the whole invocation took. The handler imports boto3 at module level and builds its EC2
client on first use (as the reference responders do), so a cold start pays for the interpreter,
the imports and the client; a warm one only for the hand-over. No AWS endpoint is contacted.

    python benchmarks/responder_start.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from simulator.delivery.runtime import FunctionRuntime, Invocation
from simulator.targets.base import Credentials

HANDLER = """
import time

PRELOAD = {preload}

import boto3  # noqa: F401  (what a real responder imports at init)

from responders.lib import aws

if PRELOAD:
    aws.preload("ec2")


def handler(event, context):
    entered = time.monotonic()
    aws.client("ec2")  # built on the first invocation of a worker, cached after
    return {"entered": entered, "ready": time.monotonic()}
"""


def _figures(label: str, invocations: list[Invocation]) -> str:
    pickup = [(i.result["entered"] - i.started_mono) * 1000 for i in invocations]
    client = [(i.result["ready"] - i.result["entered"]) * 1000 for i in invocations]
    total = [i.duration_ms for i in invocations]

    def summary(values: list[float]) -> str:
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
        return f"median {statistics.median(values):8.2f}  p90 {p90:8.2f}"

    return (f"{label:5s} pickup (dispatch -> handler runs) ms: {summary(pickup)}\n"
            f"{'':5s} client (first use in handler)     ms: {summary(client)}\n"
            f"{'':5s} invocation total                  ms: {summary(total)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()

    print(f"function runtime start-up, {options.runs} runs each")
    for preload in (False, True):
        print("\nhandler " + ("preloading the EC2 model at init (as responders.crypto does)" if preload
                              else "building its EC2 client from scratch on first use"))
        _measure(preload, options.runs)


def _measure(preload: bool, runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench_handler.py"
        path.write_text(HANDLER.replace("{preload}", str(preload)))
        runtime = FunctionRuntime(f"{path}:handler", env={}, endpoint_url="http://127.0.0.1:9",
                                  credentials=Credentials("AKIABENCHMARK0000000", "s"), region="us-east-1")
        with runtime:
            runtime.invoke({})  # settle imports in the OS page cache before measuring
            cold, warm = [], []
            for _ in range(runs):
                runtime.recycle()
                cold.append(runtime.invoke({}))
                warm.append(runtime.invoke({}))
            started = time.monotonic()
            for _ in range(runs):
                runtime.invoke({})
            per_warm = (time.monotonic() - started) / runs * 1000

    assert all(i.cold for i in cold) and not any(i.cold for i in warm)
    init = [i.init_ms or 0.0 for i in cold]
    print(_figures("cold", cold))
    print(f"{'':5s} worker init (spawn + import)      ms: median {statistics.median(init):8.2f}")
    print(_figures("warm", warm))
    print(f"warm invocations back to back: {per_warm:.2f} ms each")


if __name__ == "__main__":
    main()
