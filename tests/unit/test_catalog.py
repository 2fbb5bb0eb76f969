from __future__ import annotations

import collections
import re

import pytest

from simulator import catalog
from simulator.errors import InputError


def test_every_active_type_parses_with_a_band_inside_the_scale() -> None:
    types = catalog.active_types()
    assert len(types) >= 200
    for finding_type in types.values():
        low, high = finding_type.severity_range
        assert 1.0 <= low <= high <= 10.0, finding_type.name
        assert finding_type.threat_purpose == finding_type.name.split(":", 1)[0]


def test_active_and_retired_are_disjoint() -> None:
    assert not set(catalog.active_types()) & set(catalog.retired_types())


def test_purpose_counts_agree_with_the_purpose_table() -> None:
    counts = collections.Counter(t.threat_purpose for t in catalog.active_types().values())
    for purpose, row in catalog.threat_purposes().items():
        assert counts.get(purpose, 0) == int(row["active_type_count"] or 0), purpose


def test_grammar_parts() -> None:
    dns = catalog.get_type("CryptoCurrency:EC2/BitcoinTool.B!DNS")
    assert (dns.resource_family, dns.artifact, dns.resource_type) == ("EC2", "DNS", "Instance")
    assert catalog.get_type("Backdoor:EC2/C&CActivity.B").artifact == ""


def test_only_attack_sequences_are_critical() -> None:
    for finding_type in catalog.active_types().values():
        if "Critical" in finding_type.severity_labels:
            assert finding_type.threat_purpose == "AttackSequence", finding_type.name


def test_unknown_type_suggests_the_close_spelling() -> None:
    with pytest.raises(InputError, match=re.escape("did you mean 'CryptoCurrency:EC2/BitcoinTool.B!DNS'")):
        catalog.get_type("cryptocurrency:ec2/bitcointool.b!dns")


def test_retired_type_is_refused_as_retired() -> None:
    retired = next(iter(catalog.retired_types()))
    with pytest.raises(InputError, match="retired"):
        catalog.get_type(retired)


def test_unknown_purpose() -> None:
    with pytest.raises(InputError, match="unknown threat purpose"):
        catalog.types_for_purpose("Nope")
    assert {t.threat_purpose for t in catalog.types_for_purpose("cryptocurrency")} == {"CryptoCurrency"}
