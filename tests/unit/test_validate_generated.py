"""The finding factory and the fuzzers against the validator: what is valid passes, what breaks the schema fails."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings

from simulator.catalog import active_types
from simulator.findings import aggregate_update, generate_finding, wrap_in_envelope
from simulator.fuzz import ATTACKS, HostileFinding, findings, hostile_variant, valid_variant
from simulator.validate import is_valid, validate_event, validate_finding
from simulator.validate.semantic import PAST_SEVERITY_LABELS

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


# --- simulator.fuzz: valid variants pass, schema-breaking hostile variants fail at their target -------

SCHEMA_ATTACKS = sorted(name for name, attack in ATTACKS.items() if attack.breaks_schema)
# Semantic attacks the validator can see, and the rule that must catch each.
CAUGHT_BY_RULE = {
    "unknown-type": "unknown-type",
    "retired-type": "retired-type",
    "arn-mismatch": "arn",
    "severity-out-of-scale": "severity-band",
    "time-reversed": "time-order",
    "type-resource-mismatch": "resource-type",
    "oversize-over-limit": "size",
}
# Attacks on what a finding claims rather than on its form: the finding stays valid; only a responder's
# behaviour (not acting, escaping, acting once) can tell them apart.
STAYS_VALID = ("foreign-account", "unprovisioned-resource", "lookalike-resource", "shell-injection",
               "sql-injection", "log-forging", "path-traversal", "oversize-near-limit", "deep-nesting",
               "duplicate-delivery", "republished-finding", "reordered-updates")
MANY_TYPES = ACTIVE[::3]
SOME_TYPES = ACTIVE[::5]


def test_the_attack_lists_cover_every_attack() -> None:
    assert SCHEMA_ATTACKS, "no schema-breaking attacks to check"
    covered = set(SCHEMA_ATTACKS) | set(CAUGHT_BY_RULE) | set(STAYS_VALID) | {"severity-out-of-band",
                                                                             "private-remote-ip"}
    assert covered == set(ATTACKS)


@pytest.mark.parametrize("attack", SCHEMA_ATTACKS)
def test_every_schema_breaking_variant_is_rejected_at_its_target(attack: str) -> None:
    for type_name in MANY_TYPES:
        hostile = hostile_variant(random.Random(f"{attack}:{type_name}"), type_name, attack=attack)
        issues = validate_finding(hostile.finding)
        assert not is_valid(issues), f"{attack} on {type_name} passed"
        assert hostile.target in {issue.path for issue in issues}, (type_name, hostile.target, located(issues))
        # shape alone must see it: these attacks break botocore's model, not GuardDuty's semantics
        assert not is_valid(validate_finding(hostile.finding, strict_semantics=False)), (attack, type_name)


@pytest.mark.parametrize(("attack", "rule"), sorted(CAUGHT_BY_RULE.items()))
def test_semantic_attacks_the_rules_can_see(attack: str, rule: str) -> None:
    for type_name in SOME_TYPES:
        hostile = hostile_variant(random.Random(f"{attack}:{type_name}"), type_name, attack=attack)
        rules = {issue.rule for issue in validate_finding(hostile.finding)}
        assert rule in rules, (attack, type_name, rules)


def test_severity_out_of_the_default_band_is_caught_unless_the_type_varies() -> None:
    for type_name in MANY_TYPES:
        finding_type = active_types()[type_name]
        if finding_type.severity_varies and len(finding_type.severity_labels) == 1:
            continue  # "Low*" types may carry any Low-High severity
        if type_name in PAST_SEVERITY_LABELS:
            continue  # GuardDuty once sent other bands for it
        hostile = hostile_variant(random.Random(f"band:{type_name}"), type_name, attack="severity-out-of-band")
        assert "severity-band" in {issue.rule for issue in validate_finding(hostile.finding)}, type_name


@pytest.mark.parametrize("attack", STAYS_VALID)
def test_attacks_on_meaning_leave_a_valid_finding(attack: str) -> None:
    for type_name in SOME_TYPES:
        hostile = hostile_variant(random.Random(f"{attack}:{type_name}"), type_name, attack=attack)
        assert located(validate_finding(hostile.finding)) == [], (attack, type_name)
        for event in hostile.events:
            assert located(validate_event(event)) == [], (attack, type_name)


def test_seeded_valid_variants_of_every_type_validate_clean() -> None:
    for type_name in ACTIVE:
        for seed in range(2):
            finding = valid_variant(random.Random(f"{type_name}:{seed}"), type_name)
            assert located(validate_finding(finding)) == [], (type_name, seed)


@settings(max_examples=120, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(findings(variant="valid"))
def test_valid_strategies_validate_clean(finding: dict) -> None:
    assert located(validate_finding(finding)) == []


@settings(max_examples=120, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(findings(variant="hostile"))
def test_hostile_strategies_that_break_the_schema_are_rejected(hostile: HostileFinding) -> None:
    issues = validate_finding(hostile.finding)
    if hostile.breaks_schema:
        assert hostile.target in {issue.path for issue in issues if issue.is_error}
