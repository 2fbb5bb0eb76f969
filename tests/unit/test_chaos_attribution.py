"""Which fault caused which miss: constructed journals, verdicts and plans, and the lines the report gets."""

from __future__ import annotations

import itertools
import random
from typing import Any

from simulator.chaos import DeliveryChaos, attribute_misses, delivery_lines, describe_faults, plan_deliveries
from simulator.findings import generate_finding, wrap_in_envelope
from simulator.gateway.journal import JournalEntry
from simulator.verdicts import Invariant, StepVerdict

_seq = itertools.count(1)
RESPONDER = "AKIARESPONDER"


def entry(operation: str, *, service: str = "ec2", status: int = 200, error_code: str | None = None,
          fault: str | None = None, caller: str = RESPONDER, duration: float = 0.01) -> JournalEntry:
    seq = next(_seq)
    return JournalEntry(seq=seq, mono=float(seq), mono_start=float(seq) - duration, wall=0.0, service=service,
                        operation=operation, region="us-east-1", caller=caller, resource_ids=("i-miner",),
                        params={}, status=status, error_code=error_code, fault=fault, mutating=True)


def throttled(operation: str, service: str = "ec2", code: str = "RequestLimitExceeded") -> JournalEntry:
    return entry(operation, service=service, status=503 if service == "ec2" else 400, error_code=code,
                 fault="throttle")


def step(step_id: str, kind: str, verdict: str) -> StepVerdict:
    observed = None if verdict == "missing" else 30.0
    return StepVerdict(step_id, 300.0, observed, None if observed is None else 0.5, verdict, kind=kind)


def plan_for(finding: dict[str, Any], **sections: Any) -> Any:
    envelope = wrap_in_envelope(finding, rng=random.Random(1))
    return plan_deliveries([envelope], DeliveryChaos.model_validate(sections), random.Random(1), 60)


FINDING = generate_finding("CryptoCurrency:EC2/BitcoinTool.B!DNS", rng=random.Random(3))
FID = FINDING["id"]


def test_a_missing_step_names_the_throttled_calls_that_would_have_done_it() -> None:
    entries = [entry("DescribeInstances"), throttled("StopInstances"), throttled("StopInstances"),
               throttled("Publish", "sns", "Throttling"), entry("Publish", service="sns")]
    steps = [step("notify", "notification_delivered", "met"), step("stop", "instance_stopped", "missing")]
    lines = attribute_misses(steps, [], entries)
    assert lines == ["step stop missing: its calls hit chaos: ec2:StopInstances 2x 'throttle' "
                     "(RequestLimitExceeded), never succeeded"]


def test_steps_missed_for_one_reason_share_a_line_that_names_the_faulted_calls() -> None:
    entries = [throttled("DescribeInstances"), entry("DescribeInstances")]
    steps = [step("quarantine", "instance_quarantined", "missing"), step("stop", "instance_stopped", "missing")]
    (line,) = attribute_misses(steps, [], entries)
    assert line.startswith("steps quarantine, stop missing: no call for it was made or faulted")
    assert "ec2:DescribeInstances 1x 'throttle' (RequestLimitExceeded), then succeeded" in line


def test_a_miss_no_chaos_touched_is_the_responders_own() -> None:
    lines = attribute_misses([step("stop", "instance_stopped", "missing")], [], [entry("DescribeInstances")])
    assert lines == ["step stop missing: no chaos fault or delivery anomaly touched it (the responder's own miss)"]


def test_late_steps_count_the_latency_chaos_added() -> None:
    entries = [entry("DescribeInstances", fault="slow", duration=0.5), entry("StopInstances", fault="slow",
                                                                               duration=1.5)]
    (line,) = attribute_misses([step("stop", "instance_stopped", "late")], [], entries, time_scale=60)
    assert "2 call(s) slowed by chaos latency, 120s (runbook) in all" in line
    assert "ec2:StopInstances 1x 'slow' (slowed)" in line


def test_a_dropped_finding_is_reported_lost() -> None:
    plan = plan_for(FINDING, drop={})
    broken = Invariant("remediated_or_escalated", False, "x",
                       (f"finding {FID}: no step observed for it and no escalation page",))
    lines = attribute_misses([step("notify", "notification_delivered", "missing")], [broken], [], plan=plan)
    assert lines[0] == "step notify missing: its event was dropped by chaos and never delivered"
    assert lines[1] == f"finding {FID} lost: its event was dropped by chaos and nothing escalated it"


def test_a_delayed_delivery_explains_a_late_step() -> None:
    plan = plan_for(FINDING, delay={"by": "10m"})
    (line,) = attribute_misses([step("notify", "notification_delivered", "late")], [], [], plan=plan)
    assert "its first event arrived 600s (runbook) after publication" in line


def test_duplicate_side_effects_are_linked_to_duplicate_deliveries() -> None:
    broken = Invariant("no_duplicate_side_effects", False, "x", (f"finding {FID}: 2 snapshots of vol-1",))
    (line,) = attribute_misses([], [broken], [], plan=plan_for(FINDING, duplicate={"copies": 2}))
    assert line == f"finding {FID}: 2 snapshots of vol-1: the finding was delivered 3 times by chaos (duplicate x2)"
    (plain,) = attribute_misses([], [broken], [], plan=plan_for(FINDING))
    assert plain.endswith("not caused by delivery chaos (delivered once)")


def test_responder_errors_are_linked_to_the_fault_whose_code_they_carry() -> None:
    entries = [throttled("StopInstances"), entry("Publish", service="sns", status=0, fault="reset")]
    broken = Invariant("no_unhandled_errors", False, "x", (
        "error on attempt 1 (request r): ClientError: An error occurred (RequestLimitExceeded) when calling "
        "the StopInstances operation",
        "error on attempt 2 (request r): ConnectionClosedError: Connection was closed before we received a "
        "valid response",
        "error on attempt 3 (request r): KeyError: 'detail'"))
    first, second, third = attribute_misses([], [broken], entries)
    assert first.endswith("<- chaos: ec2:StopInstances 1x 'throttle' (RequestLimitExceeded), never succeeded")
    assert second.endswith("<- chaos: sns:Publish 1x 'reset' (connection reset), never succeeded")
    assert "<- during chaos:" in third


def test_only_the_responders_calls_count_when_its_key_is_given() -> None:
    entries = [throttled("StopInstances"), entry("StopInstances", caller="AKIAHARNESS")]
    lines = attribute_misses([step("stop", "instance_stopped", "missing")], [], entries,
                             responder_callers={RESPONDER})
    assert lines[0].endswith("never succeeded")
    assert describe_faults(entries, responder_callers={RESPONDER}) == [
        "chaos fault 'throttle' on ec2:StopInstances: 1x (RequestLimitExceeded); 0 of 1 call(s) succeeded"]
    assert describe_faults([entry("StopInstances")]) == []


def test_a_broken_blast_radius_is_never_excused_by_chaos() -> None:
    broken = Invariant("blast_radius", False, "ec2:StopInstances on i-other (bystander 'neighbour')")
    (line,) = attribute_misses([], [broken], [throttled("StopInstances")])
    assert line.startswith("blast_radius broken: chaos does not excuse it")


def test_delivery_lines_say_what_chaos_did_to_each_event() -> None:
    lines = delivery_lines(plan_for(FINDING, reorder={"gap": "20s"}, duplicate={}))
    assert any(line.startswith(f"finding {FID}: update - aggregated update") for line in lines)
    assert any("duplicate 1 of 1" in line for line in lines)
    assert delivery_lines(plan_for(FINDING)) == []
