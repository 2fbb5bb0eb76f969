"""A deterministic fleet of synthetic resources for one pool seed, account, region and day.

Findings that are not bound to provisioned resources name members of this fleet, the way a real
account's findings keep naming the same few instances and users. Each kind is built on first use from
its own seeded random.Random, so a member's content never depends on which findings came before.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from simulator.findings import synthetic
from simulator.findings.pools import Pools

FLEET_SIZE = 24


class Fleet:
    def __init__(self, pools: Pools, account: str, region: str, day_ms: int) -> None:
        self.pools, self.account, self.region, self.day_ms = pools, account, region, day_ms
        self._kinds: dict[str, tuple[dict, ...]] = {}

    def _rng(self, kind: str) -> random.Random:
        return random.Random(f"{self.pools.seed}:{kind}:{self.account}:{self.region}:{self.day_ms}")

    def _members(self, kind: str, make: Callable[[random.Random], dict]) -> tuple[dict, ...]:
        members = self._kinds.get(kind)
        if members is None:
            rng = self._rng(kind)
            members = self._kinds[kind] = tuple(make(rng) for _ in range(FLEET_SIZE))
        return members

    def member(self, kind: str, index: int) -> dict:
        pools, account, region, day = self.pools, self.account, self.region, self.day_ms
        makers: dict[str, Callable[[random.Random], dict]] = {
            "instance": lambda rng: synthetic.instance(pools, rng, account, region, day),
            "windows": lambda rng: synthetic.instance(pools, rng, account, region, day, windows=True),
            "user": lambda rng: synthetic.user(pools, rng, account, region),
            "role": lambda rng: synthetic.role(pools, rng, account, region),
            "bucket": lambda rng: synthetic.bucket(pools, rng, account, region, day),
            "eks_cluster": lambda rng: synthetic.eks_cluster(pools, rng, account, region, day),
            "db_instance": lambda rng: synthetic.db_instance(pools, rng, account, region),
            "function": lambda rng: synthetic.function(pools, rng, account, region, day),
            "ecs_cluster": lambda rng: synthetic.ecs_cluster(pools, rng, account, region, day),
            "container": lambda rng: synthetic.container(pools, rng),
        }
        return self._members(kind, makers[kind])[index % FLEET_SIZE]
