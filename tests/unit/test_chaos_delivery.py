"""Delivery plans: drops, delays, duplicates, an update overtaking the original, bursts; seeded and ordered."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.chaos import DeliveryChaos, PlanInjector, plain_plan, plan_deliveries
from simulator.findings import generate_finding, wrap_in_envelope
from simulator.findings.clock import parse_iso

TYPE = "CryptoCurrency:EC2/BitcoinTool.B!DNS"


def envelopes(count: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [wrap_in_envelope(generate_finding(TYPE, rng=rng), rng=rng) for _ in range(count)]


def chaos(**sections: Any) -> DeliveryChaos:
    return DeliveryChaos.model_validate(sections)


def test_without_chaos_each_event_is_delivered_once_when_published() -> None:
    events = envelopes(3)
    plan = plain_plan(events, offsets=[0.0, 0.5, 1.0])
    assert [(item.kind, item.at_seconds) for item in plan] == [("original", 0.0), ("original", 0.5), ("original", 1.0)]
    assert [item.envelope for item in plan] == events
    assert plan.dropped == () and plan.lost() == [] and plan.anomalies() == []


def test_a_dropped_event_is_lost_unless_an_update_arrives() -> None:
    events = envelopes(2)
    plan = plan_deliveries(events, chaos(drop={"probability": 1.0}), random.Random(1), 60)
    assert len(plan) == 0
    assert plan.lost() == [event["detail"]["id"] for event in events]
    with_update = plan_deliveries(events, chaos(drop={}, reorder={"gap": "10s"}), random.Random(1), 60)
    assert [item.kind for item in with_update] == ["update", "update"]
    assert with_update.lost() == []


def test_delays_are_runbook_time() -> None:
    plan = plan_deliveries(envelopes(1), chaos(delay={"by": "2m", "jitter": "1m"}), random.Random(1), 60)
    (item,) = plan.deliveries
    assert item.kind == "delayed" and item.published_seconds == 0.0
    assert 2.0 <= item.at_seconds <= 3.0
    assert "after publication" in item.note


def test_duplicates_follow_the_original() -> None:
    (event,) = envelopes(1)
    plan = plan_deliveries([event], chaos(duplicate={"copies": 2, "after": "30s"}), random.Random(1), 60)
    assert [(item.kind, item.at_seconds) for item in plan] == [("original", 0.0), ("duplicate", 0.5),
                                                              ("duplicate", 1.0)]
    assert all(item.envelope is event for item in plan)


def test_reorder_delivers_the_aggregated_update_before_the_original() -> None:
    (event,) = envelopes(1)
    plan = plan_deliveries([event], chaos(reorder={"occurrences": 3, "gap": "20s"}), random.Random(1), 10)
    update, original = plan.deliveries
    assert update.kind == "update" and update.at_seconds == 0.0
    assert original.envelope is event and original.at_seconds == 2.0
    before, after = event["detail"], update.envelope["detail"]
    assert after["id"] == before["id"] and after["arn"] == before["arn"]
    assert after["service"]["count"] == before["service"]["count"] + 3
    assert parse_iso(after["updatedAt"]) > parse_iso(before["updatedAt"])
    assert update.envelope["id"] != event["id"]


def test_a_burst_is_a_run_of_growing_updates() -> None:
    (event,) = envelopes(1)
    plan = plan_deliveries([event], chaos(burst={"copies": 4, "within": "1m"}), random.Random(1), 60)
    kinds = [item.kind for item in plan]
    assert kinds[0] == "original" and kinds.count("burst") == 4
    counts = [item.envelope["detail"]["service"]["count"] for item in plan if item.kind == "burst"]
    assert counts == sorted(counts) and counts[0] > event["detail"]["service"]["count"]
    assert all(0.0 <= item.at_seconds <= 1.0 for item in plan)


def test_the_same_seed_gives_the_same_plan() -> None:
    events = envelopes(20)
    profile = chaos(drop={"probability": 0.3}, delay={"probability": 0.5, "by": "1m"},
                    duplicate={"probability": 0.5}, reorder={"probability": 0.2})
    first = plan_deliveries(events, profile, random.Random(9), 60).signature()
    assert plan_deliveries(events, profile, random.Random(9), 60).signature() == first
    assert plan_deliveries(events, profile, random.Random(10), 60).signature() != first


sections = st.fixed_dictionaries({}, optional={
    "drop": st.fixed_dictionaries({"probability": st.floats(0, 1)}),
    "delay": st.fixed_dictionaries({"probability": st.floats(0, 1), "by": st.sampled_from(["0s", "30s", "5m"]),
                                    "jitter": st.sampled_from(["0s", "1m"])}),
    "duplicate": st.fixed_dictionaries({"probability": st.floats(0, 1), "copies": st.integers(1, 3),
                                        "after": st.sampled_from(["0s", "10s"])}),
    "reorder": st.fixed_dictionaries({"probability": st.floats(0, 1), "gap": st.sampled_from(["1s", "1m"])}),
    "burst": st.fixed_dictionaries({"probability": st.floats(0, 1), "copies": st.integers(1, 3),
                                    "within": st.sampled_from(["0s", "30s"])}),
})
EVENTS = envelopes(4, seed=2)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(sections=sections, seed=st.integers(0, 2**32), scale=st.sampled_from([1.0, 60.0, 3600.0]))
def test_every_plan_is_ordered_and_accounts_for_every_finding(sections: dict, seed: int, scale: float) -> None:
    plan = plan_deliveries(EVENTS, chaos(**sections), random.Random(seed), scale, offsets=[0, 0.1, 0.2, 0.3])
    times = [item.at_seconds for item in plan]
    assert times == sorted(times)
    assert all(item.at_seconds >= item.published_seconds - 1e-9 for item in plan)
    ids = [event["detail"]["id"] for event in EVENTS]
    for fid in ids:
        assert plan.of_finding(fid) or fid in plan.lost()
        originals = [item for item in plan.of_finding(fid) if item.kind in ("original", "delayed")]
        assert len(originals) <= 1
        if any(item.kind == "duplicate" for item in plan.of_finding(fid)):
            assert originals and all(item.at_seconds >= originals[0].at_seconds
                                     for item in plan.of_finding(fid) if item.kind == "duplicate")
    assert {item.finding_id for item in plan} | set(plan.lost()) == set(ids)
    if "drop" not in sections:
        assert plan.dropped == ()


def test_the_injector_publishes_before_delivering_and_skips_dropped_events() -> None:
    events = envelopes(3)
    fids = [event["detail"]["id"] for event in events]
    plan = plan_deliveries(events, chaos(drop={"probability": 0.5}, duplicate={"after": "10s"}), random.Random(0),
                           3600, offsets=[0.0, 0.001, 0.002])
    assert len(plan.dropped) == 1 and len(plan) == 4  # this seed drops one finding and duplicates the others
    timeline: list[tuple[str, str]] = []
    injector = PlanInjector(plan, inject=lambda envelope: timeline.append(("deliver", envelope["detail"]["id"]))
                            or "injected", on_publish=lambda finding: timeline.append(("publish", finding["id"])))
    start = injector.start()
    assert injector.join(timeout=10)
    assert injector.started_mono == start and injector.errors == []
    published = [fid for what, fid in timeline if what == "publish"]
    delivered = [fid for what, fid in timeline if what == "deliver"]
    assert published == fids  # dropped findings are still published to GuardDuty's API
    assert sorted(delivered) == sorted(item.finding_id for item in plan)
    for fid in set(delivered):
        assert timeline.index(("publish", fid)) < timeline.index(("deliver", fid))
    assert len(injector.delivered) == len(plan)
    assert set(plan.lost()) == set(fids) - set(delivered)


def test_a_refused_event_is_recorded_and_the_plan_goes_on() -> None:
    events = envelopes(2)

    def refuse_first(envelope: dict[str, Any]) -> str:
        if envelope is events[0]:
            raise RuntimeError("EventBridge refused it")
        return "ok"

    injector = PlanInjector(plain_plan(events), inject=refuse_first)
    injector.run()
    assert len(injector.delivered) == 1 and injector.delivered[0].planned.envelope is events[1]
    assert "EventBridge refused it" in injector.errors[0]


def test_guardduty_ends_with_the_latest_state_when_an_update_overtakes_the_original() -> None:
    (event,) = envelopes(1)
    plan = plan_deliveries([event], chaos(reorder={"occurrences": 2, "gap": "20s"}), random.Random(1), 3600)
    published: list[int] = []
    delivered: list[str] = []
    PlanInjector(plan, inject=lambda envelope: delivered.append(envelope["id"]),
                 on_publish=lambda finding: published.append(finding["service"]["count"])).run()
    assert published == [event["detail"]["service"]["count"], event["detail"]["service"]["count"] + 2]
    assert delivered == [plan.deliveries[0].envelope["id"], event["id"]]
