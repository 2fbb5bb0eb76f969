"""Name pools drawn from Faker once per seed, so the hot path never calls Faker.

Faker is slow per call (tens of microseconds) and its output is only reproducible for a seeded instance,
so each pool set is drawn in one go from ``Faker.seed_instance(seed)`` and then indexed with the finding's
own random.Random.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from faker import Faker

_POOL_SIZE = 64
_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")


@dataclass(frozen=True)
class Pools:
    """Names for one seed. Tuples only: pools are shared and must never change."""

    seed: int
    user_names: tuple[str, ...]
    people: tuple[tuple[str, str], ...]  # (full name, e-mail)
    words: tuple[str, ...]
    teams: tuple[str, ...]
    companies: tuple[str, ...]
    hostnames: tuple[str, ...]
    file_stems: tuple[str, ...]


@lru_cache(maxsize=32)
def pools_for(seed: int) -> Pools:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    user_names = _unique(lambda: fake.user_name(), _POOL_SIZE)
    people = tuple((fake.name(), fake.company_email()) for _ in range(_POOL_SIZE // 2))
    words = _unique(lambda: slug(fake.word()), 4 * _POOL_SIZE)
    teams = _unique(lambda: slug(fake.job().split(",")[0])[:40], 16)
    companies = _unique(lambda: slug(fake.domain_word()), 16)
    hostnames = _unique(lambda: f"{slug(fake.word())}-{slug(fake.word())}", _POOL_SIZE)
    file_stems = _unique(lambda: slug(fake.file_name(extension="")).strip("-") or "data", 32)
    return Pools(seed, user_names, people, words, teams, companies, hostnames, file_stems)


def _unique(draw, count: int) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    seen: dict[str, None] = {}
    attempts = 0
    while len(seen) < count and attempts < count * 20:
        attempts += 1
        value = draw()
        if value:
            seen.setdefault(value, None)
    return tuple(seen)
