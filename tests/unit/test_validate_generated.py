"""The finding factory's output passes the validator: every active type, as finding, event and update."""

from __future__ import annotations

import random

import pytest

from simulator.catalog import active_types
from simulator.findings import aggregate_update, generate_finding, wrap_in_envelope
from simulator.validate import validate_event, validate_finding

ACTIVE = sorted(active_types())


def located(issues: list) -> list[str]:
    return [f"{issue.path}: {issue.message} [{issue.rule}]" for issue in issues]


@pytest.mark.parametrize("type_name", ACTIVE)
def test_generated_findings_of_every_active_type_validate_clean(type_name: str) -> None:
    rng = random.Random(f"validate:{type_name}")
    finding = generate_finding(type_name, rng=rng)
    assert located(validate_finding(finding)) == []
    assert located(validate_event(wrap_in_envelope(finding, rng=rng))) == []
    updated = aggregate_update(finding, rng=rng, occurrences=3)
    assert located(validate_finding(updated)) == []
    assert updated["service"]["count"] > finding["service"]["count"]


@pytest.mark.parametrize("seed", range(3))
def test_sample_findings_in_other_accounts_and_regions_validate_clean(seed: int) -> None:
    rng = random.Random(seed)
    for type_name in rng.sample(ACTIVE, 25):
        finding = generate_finding(type_name, rng=rng, account_id="210987654321", region="eu-central-1",
                                   sample=True)
        assert located(validate_finding(finding)) == [], type_name
