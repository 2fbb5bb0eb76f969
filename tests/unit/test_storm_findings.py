"""A storm's findings kept compact: envelopes that read like the original, a delivery plan built on them,
and a findings store that answers the GuardDuty API the same from compressed findings."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from simulator.chaos.delivery import PlanInjector, plain_plan
from simulator.chaos.storm_findings import CompactEnvelope, generate_storm_findings
from simulator.findings import generate_finding, wrap_in_envelope
from simulator.gateway.findings_store import FindingsStore

REAL = Path(__file__).resolve().parent.parent / "data" / "real_findings"
TYPE = "CryptoCurrency:EC2/BitcoinTool.B!DNS"


def envelope(seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    return wrap_in_envelope(generate_finding(TYPE, rng=rng), rng=rng)


def test_a_compact_envelope_reads_like_the_original_and_hands_out_fresh_copies() -> None:
    original = envelope()
    compact = CompactEnvelope(original)
    assert dict(compact) == original and list(compact) == list(original) and len(compact) == len(original)
    assert compact.finding_id == original["detail"]["id"] and compact.get("nope") is None
    first = compact["detail"]
    first["severity"] = -1
    assert compact["detail"]["severity"] == original["detail"]["severity"]
    assert compact.size < len(json.dumps(original["detail"])) / 1.5
    assert dict(copy.deepcopy(compact)) == original
    with pytest.raises(KeyError):
        compact["missing"]


def test_a_delivery_plan_of_compact_envelopes_publishes_and_injects_the_findings() -> None:
    originals = [envelope(seed) for seed in range(3)]
    plan = plain_plan([CompactEnvelope(item) for item in originals], offsets=[0.0, 0.0, 0.0])
    assert [item.finding_id for item in plan] == [item["detail"]["id"] for item in originals]
    published: list[Any] = []
    injected: list[Any] = []
    injector = PlanInjector(plan, inject=lambda event: injected.append(dict(event)), on_publish=published.append)
    injector.run()
    assert published == [item["detail"] for item in originals]
    assert injected == originals and injector.errors == []


def test_storm_findings_are_bound_round_robin_and_reproducible() -> None:
    resources = [{"kind": "instance", "name": f"miner-{n}", "id": f"i-{n:017x}"} for n in range(3)]

    def made(seed: int) -> list[dict[str, Any]]:
        findings = generate_storm_findings(TYPE, resources, 7, rng=random.Random(seed), account_id="123456789012",
                                           region="us-east-1", severity=8.0)
        assert len(findings) == 7 and findings.copy_of(4) == 1 and findings.generate_ms_per_finding > 0
        assert len(set(findings.ids)) == 7
        return [item.finding() for item in findings.envelopes]

    first = made(3)
    assert [f["resource"]["instanceDetails"]["instanceId"] for f in first] == [
        resources[n % 3]["id"] for n in range(7)]
    assert {f["severity"] for f in first} == {8.0}
    assert [f["id"] for f in made(3)] == [f["id"] for f in first] != [f["id"] for f in made(4)]


# ---------------------------------------------------------------- the findings store, compact


def real_findings() -> list[dict[str, Any]]:
    found = []
    for path in sorted(REAL.glob("*.json")):
        if path.name.endswith(".source.json") or path.name == "MANIFEST.json":
            continue
        document = json.loads(path.read_text())
        found.append(document.get("detail", document))
    return found


def stores() -> tuple[FindingsStore, FindingsStore]:
    plain, compact = FindingsStore(region="us-west-2"), FindingsStore(region="us-west-2", compact=True)
    for finding in real_findings():
        plain.add(finding)
        compact.add(finding)
    return plain, compact


def test_a_compact_store_answers_as_a_plain_one() -> None:
    plain, compact = stores()
    assert compact.compact and not plain.compact and len(compact) == len(plain) > 5
    assert compact.detector_ids == plain.detector_ids and compact.detector_id == plain.detector_id
    assert compact.all() == plain.all()
    ids = [finding["id"] for finding in plain.all()]
    for detector in (None, plain.detector_id):
        assert compact.get(ids[::2], detector_id=detector) == plain.get(ids[::2], detector_id=detector)
    criteria = {"criterion": {"severity": {"gte": 5}, "service.archived": {"eq": ["false"]}}}
    sort = {"attributeName": "severity", "orderBy": "DESC"}
    assert compact.find(criteria, sort=sort) == plain.find(criteria, sort=sort) != []
    for store in (plain, compact):
        store.archive(ids[:2])
        store.record_feedback(ids[2:3], "USEFUL", "checked")
        store.add({**plain.get(ids[:1])[0], "severity": 2.0})  # an update keeps what the user did
    assert compact.all() == plain.all() and compact.is_archived(ids[0]) and not compact.is_archived(ids[3])
    assert compact.find(criteria) == plain.find(criteria)


def test_a_store_switches_form_with_what_it_holds_and_copies_stay_apart() -> None:
    plain, _ = stores()
    before = plain.all()
    plain.compact = True
    assert plain.all() == before
    read = plain.all()[0]
    read["severity"] = -1
    assert plain.all() == before
    plain.compact = False
    assert plain.all() == before
    odd = FindingsStore(compact=True)
    odd.add({"id": "x", "when": {1, 2}})  # not JSON: kept as it is
    assert odd.get(["x"]) == [{"id": "x", "when": {1, 2}}]
