"""GuardDuty findings in wire form: generate them, wrap them in EventBridge events, aggregate updates.

    from simulator.findings import generate_finding, wrap_in_envelope, aggregate_update

    finding = generate_finding("CryptoCurrency:EC2/BitcoinTool.B!DNS", rng=random.Random(7),
                               resource=env.resources["miner"], now=injected_at)
    event = wrap_in_envelope(finding, rng=rng)
    later = aggregate_update(finding, rng=rng, occurrences=3)
"""

from simulator.findings.aggregate import aggregate_update
from simulator.findings.envelope import wrap_in_envelope
from simulator.findings.factory import FindingFactory, generate_finding
from simulator.findings.recipes import FAMILIES, family_of, recipe_for, types_by_family

__all__ = [
    "FAMILIES",
    "FindingFactory",
    "aggregate_update",
    "family_of",
    "generate_finding",
    "recipe_for",
    "types_by_family",
    "wrap_in_envelope",
]
