"""Hypothesis strategies: one composite per finding family, registered by family, reachable by type."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from simulator.catalog import active_types
from simulator.errors import InputError
from simulator.findings import generate_finding
from simulator.findings.recipes import FAMILIES, family_of
from simulator.fuzz._choosers import DrawChooser
from simulator.fuzz._hostile import ATTACKS, make_hostile
from simulator.fuzz._model import HostileFinding
from simulator.fuzz._valid import VALID_MUTATIONS

VARIANTS = ("valid", "plain", "hostile")

GENERIC_MUTATIONS = ("severity-edge", "drop-optional", "nulls", "archived", "sample", "unicode-strings",
                     "max-length-strings", "high-count", "whole-second-times")
FAMILY_MUTATIONS: dict[str, tuple[str, ...]] = {
    "ec2-network": ("several-enis", "ipv6-remote"),
    "ec2-dns": ("several-enis",),
    "ec2-port-probe": ("several-enis", "ipv6-remote"),
    "iam-api": ("cross-account-principal", "ipv6-remote"),
    "custom-detection": ("cross-account-principal",),
    "s3-api": ("several-buckets", "cross-account-principal", "ipv6-remote"),
    "kubernetes-api": ("impersonation", "cross-account-principal", "ipv6-remote"),
    "rds-login": ("ipv6-remote",),
    "lambda-network": ("ipv6-remote",),
    "runtime-process": ("deep-lineage", "several-enis"),
    "runtime-network": ("deep-lineage", "several-enis", "ipv6-remote"),
    "runtime-dns": ("deep-lineage", "several-enis"),
    "ebs-malware": ("several-enis",),
    "backup-malware": (),
    "s3-object-malware": (),
    "attack-sequence": (),
}

# Findings are generated inside a decade around now, to the millisecond.
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_SPAN_MS = 10 * 365 * 86_400_000

FamilyStrategy = Callable[..., st.SearchStrategy[dict]]
FAMILY_STRATEGIES: dict[str, FamilyStrategy] = {}


def register_family(*families: str) -> Callable[[FamilyStrategy], FamilyStrategy]:
    """Register a strategy factory ``(type_name, account_id=..., region=...) -> SearchStrategy[dict]``."""
    def register(factory: FamilyStrategy) -> FamilyStrategy:
        for family in families:
            FAMILY_STRATEGIES[family] = factory
        return factory

    return register


def moments() -> st.SearchStrategy[datetime]:
    return st.integers(0, _SPAN_MS).map(lambda ms: _EPOCH + timedelta(milliseconds=ms))


@st.composite
def plain_findings(draw: st.DrawFn, type_name: str, account_id: str = "123456789012",
                   region: str = "us-east-1") -> dict:
    """A finding straight from the factory: the seed and the time are hypothesis's to choose."""
    seed = draw(st.integers(0, 2**32 - 1))
    return generate_finding(type_name, rng=random.Random(seed), account_id=account_id, region=region,
                            now=draw(moments()))


def _family_composite(family: str) -> FamilyStrategy:
    mutations = GENERIC_MUTATIONS + FAMILY_MUTATIONS[family]

    @st.composite
    def family_findings(draw: st.DrawFn, type_name: str, account_id: str = "123456789012",
                        region: str = "us-east-1") -> dict:
        finding = draw(plain_findings(type_name, account_id, region))
        choose = DrawChooser(draw)
        for name in mutations:
            if draw(st.booleans()):
                VALID_MUTATIONS[name](finding, choose)
        return finding

    family_findings.__name__ = f"{family.replace('-', '_')}_findings"
    family_findings.__doc__ = f"Valid {family} findings exploring: {', '.join(mutations)}."
    return family_findings


for _family in FAMILIES:
    register_family(_family)(_family_composite(_family))


@st.composite
def hostile_findings(draw: st.DrawFn, type_name: str, attacks: tuple[str, ...] | None = None,
                     account_id: str = "123456789012", region: str = "us-east-1") -> HostileFinding:
    attack = draw(st.sampled_from(attacks or tuple(ATTACKS)))
    seed = draw(st.integers(0, 2**32 - 1))
    return make_hostile(DrawChooser(draw), random.Random(seed), type_name, attack=attack, account_id=account_id,
                        region=region, now=draw(moments()))


def strategy_for(type_name: str, variant: str = "valid", *, account_id: str = "123456789012",
                 region: str = "us-east-1") -> st.SearchStrategy:
    """The strategy for one finding type: its family's composite (valid), the factory alone (plain),
    or hostile variants."""
    if variant == "valid":
        return FAMILY_STRATEGIES[family_of(type_name)](type_name, account_id=account_id, region=region)
    if variant == "plain":
        return plain_findings(type_name, account_id=account_id, region=region)
    if variant == "hostile":
        return hostile_findings(type_name, account_id=account_id, region=region)
    raise InputError(f"unknown variant {variant!r}", field="variant", fix=f"use one of: {', '.join(VARIANTS)}")


def resolve_types(types: str | Iterable[str] | None) -> list[str]:
    if types is None:
        return sorted(active_types())
    names = [types] if isinstance(types, str) else list(types)
    for name in names:
        family_of(name)  # raises InputError for unknown and retired names
    if not names:
        raise InputError("no finding types given", field="types", fix="pass None for every active type")
    return names


def findings(types: str | Iterable[str] | None = None, variant: str = "valid", *,
             account_id: str = "123456789012", region: str = "us-east-1") -> st.SearchStrategy:
    """Findings of ``types`` (a name, names, or None for every active type).

    ``variant="valid"`` draws from each type's family strategy (schema-exploring, always valid);
    ``"plain"`` straight from the factory; ``"hostile"`` gives HostileFinding values.
    """
    if variant not in VARIANTS:
        raise InputError(f"unknown variant {variant!r}", field="variant", fix=f"use one of: {', '.join(VARIANTS)}")
    names = resolve_types(types)
    return st.sampled_from(names).flatmap(
        lambda name: strategy_for(name, variant, account_id=account_id, region=region))
