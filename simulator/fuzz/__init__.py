"""Fuzzing GuardDuty responders: hypothesis strategies and seeded variants of findings.

    from hypothesis import given
    from simulator.fuzz import findings

    @given(findings("CryptoCurrency:EC2/BitcoinTool.B!DNS"))
    def test_responder_accepts_every_valid_finding(finding): ...

    @given(findings(variant="hostile"))
    def test_responder_survives(hostile):          # a HostileFinding
        result = handler(wrap_in_envelope(hostile.finding), context)
        ...                                         # hostile.attack says what was broken

Valid variants explore the schema (optional members absent or null, severity band edges, IPv6, several
ENIs, cross-account principals, archived and sample findings, unicode and maximum-length strings).
Hostile variants break one thing each and say which (``ATTACKS``). The seeded ``valid_variant`` and
``hostile_variant`` give the same kinds of input without hypothesis (``simulate generate --fuzz``).
"""

from typing import Any

from simulator.fuzz._hostile import ATTACKS, Attack, hostile_variant
from simulator.fuzz._model import HostileFinding
from simulator.fuzz._valid import VALID_MUTATIONS, valid_variant

# The strategies need hypothesis; load them on first use so the seeded functions (and the CLI) start fast.
_STRATEGY_NAMES = frozenset({"FAMILY_MUTATIONS", "FAMILY_STRATEGIES", "GENERIC_MUTATIONS", "VARIANTS", "findings",
                             "hostile_findings", "plain_findings", "register_family", "strategy_for"})


def __getattr__(name: str) -> Any:
    if name in _STRATEGY_NAMES:
        from simulator.fuzz import _strategies

        return getattr(_strategies, name)
    raise AttributeError(f"module 'simulator.fuzz' has no attribute {name!r}")


__all__ = [
    "ATTACKS",
    "FAMILY_MUTATIONS",
    "FAMILY_STRATEGIES",
    "GENERIC_MUTATIONS",
    "VALID_MUTATIONS",
    "VARIANTS",
    "Attack",
    "HostileFinding",
    "findings",
    "hostile_findings",
    "hostile_variant",
    "plain_findings",
    "register_family",
    "strategy_for",
    "valid_variant",
]
