"""Cold start of the moto target: to healthy, to the first EC2 call, with and without warm-up; and stop.

"waited" is the time the harness spends blocked on the emulator: start, warm-up and the first EC2 call.

Prints figures; asserts nothing. Usage: python benchmarks/moto_start.py [RUNS]
"""

from __future__ import annotations

import statistics
import sys
import time

import boto3
from botocore.config import Config

from simulator.targets.moto import MotoForkServer, MotoTarget

NO_RETRIES = Config(retries={"max_attempts": 1})


def ec2_client(endpoint_url: str):  # type: ignore[no-untyped-def]
    return boto3.session.Session().client(
        "ec2", endpoint_url=endpoint_url, region_name="us-east-1", aws_access_key_id="AKIAGDSIMBENCH000001",
        aws_secret_access_key="bench", config=NO_RETRIES,
    )


def one_run(*, preload: tuple[str, ...] = (), warm: bool, pause: float,
            fork_server: MotoForkServer | None = None) -> dict[str, float]:
    target = fork_server.target() if fork_server else MotoTarget(preload=preload)
    started = time.perf_counter()
    sandbox = target.start()
    healthy = time.perf_counter()
    figures = {"healthy": healthy - started}
    try:
        client = ec2_client(sandbox.endpoint_url or "")
        if pause:
            time.sleep(pause)  # the harness doing other work (provisioning plans, findings) meanwhile
        if warm:
            figures["warm"] = target.warm()
        before = time.perf_counter()
        client.describe_vpcs()
        figures["first_ec2"] = time.perf_counter() - before
        # What the harness waits for: start, warm-up and the first call (not its own busy time).
        figures["waited"] = figures["healthy"] + figures.get("warm", 0.0) + figures["first_ec2"]
        before = time.perf_counter()
        client.describe_vpcs()
        figures["second_ec2"] = time.perf_counter() - before
    finally:
        before = time.perf_counter()
        target.stop()
        figures["stop"] = time.perf_counter() - before
    return figures


def report(title: str, runs: list[dict[str, float]]) -> None:
    print(title)
    for key in runs[0]:
        values = [run[key] * 1000 for run in runs]
        print(f"  {key:<12} median {statistics.median(values):8.1f} ms   min {min(values):8.1f}   "
              f"max {max(values):8.1f}")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    one_run(preload=(), warm=False, pause=0)  # first run pays disk caches; not counted
    variants = [
        ("no preload, first EC2 call right away", {"preload": (), "warm": False, "pause": 0.0}),
        ("preload ec2+iam, warm() right away", {"preload": ("ec2", "iam"), "warm": True, "pause": 0.0}),
        ("preload ec2+iam, harness busy 1 s, then warm()", {"preload": ("ec2", "iam"), "warm": True, "pause": 1.0}),
    ]
    for title, options in variants:
        report(f"{title} ({count} runs)", [one_run(**options) for _ in range(count)])  # type: ignore[arg-type]

    started = time.perf_counter()
    with MotoForkServer() as fork_server:
        print(f"fork server (ec2+iam preloaded, warmed in a scratch account) ready in "
              f"{(time.perf_counter() - started) * 1000:.0f} ms")
        report(f"sandbox forked from the fork server ({count} runs)",
               [one_run(warm=False, pause=0.0, fork_server=fork_server) for _ in range(count)])


if __name__ == "__main__":
    main()
