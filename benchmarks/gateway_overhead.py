"""Latency the gateway adds to one API call: the same boto3 calls straight to moto and through the gateway.

Calls alternate between the two paths so machine noise hits both alike. Prints median and p95 per path
and their difference; asserts nothing. Usage: python benchmarks/gateway_overhead.py [CALLS]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from botocore.config import Config

from simulator.gateway import Gateway, Journal
from simulator.targets.moto import MotoTarget

NO_RETRIES = Config(retries={"max_attempts": 1})


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    target = MotoTarget(preload=("ec2",))
    sandbox = target.start()
    target.warm()
    journal = Journal()
    gateway = Gateway(sandbox.endpoint_url or "", journal, region=sandbox.region, account_id=sandbox.account_id)
    url = gateway.start()
    try:
        session = sandbox.session()
        operations = {
            "ec2 DescribeVpcs (query/XML)": lambda client: client.describe_vpcs(),
            "sqs ListQueues (JSON)": lambda client: client.list_queues(),
        }
        for title, operation in operations.items():
            service = title.split()[0]
            direct = session.client(service, endpoint_url=sandbox.endpoint_url, config=NO_RETRIES)
            proxied = session.client(service, endpoint_url=url, config=NO_RETRIES)
            for _ in range(20):  # warm both paths: models, templates, connections
                operation(direct)
                operation(proxied)
            direct_ms: list[float] = []
            proxied_ms: list[float] = []
            for _ in range(calls):
                direct_ms.append(timed(lambda client=direct, call=operation: call(client)))
                proxied_ms.append(timed(lambda client=proxied, call=operation: call(client)))
            print(f"{title}, {calls} calls each")
            for name, values in (("direct", direct_ms), ("gateway", proxied_ms)):
                print(f"  {name:<8} median {statistics.median(values):6.2f} ms   "
                      f"p95 {percentile(values, 0.95):6.2f} ms")
            added = statistics.median(proxied_ms) - statistics.median(direct_ms)
            added_p95 = percentile(proxied_ms, 0.95) - percentile(direct_ms, 0.95)
            print(f"  added    median {added:6.2f} ms   p95 {added_p95:6.2f} ms")
        print(f"journal entries: {journal.last_seq}")
    finally:
        gateway.stop()
        target.stop()


if __name__ == "__main__":
    main()
