"""The storm's ledger: calls charged to the invocation they fall in, folded as they come, the journal
forgetting what was folded; and compacted calls that give the invariants the same answers."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from simulator.chaos.storm_ledger import Mentions, StormLedger, compact_entry
from simulator.gateway.journal import Journal, JournalEntry
from simulator.observers.base import entry_succeeded, flatten_strings
from simulator.verdicts import no_duplicate_side_effects, pages_from_journal

RESPONDER = "AKIARESPONDER0000001"
FID_A, FID_B = "a" * 32, "b" * 32
PAGER = "arn:aws:sns:us-east-1:123456789012:pager"
ONCALL = "arn:aws:sns:us-east-1:123456789012:ir-oncall"


def call(operation: str, at: float, *, params: dict[str, Any] | None = None, status: int = 200,
         mutating: bool = True, caller: str = RESPONDER, resource_ids: tuple[str, ...] = ()) -> JournalEntry:
    return JournalEntry(seq=0, mono=at + 0.01, mono_start=at, wall=1_700_000_000.0 + at, service="ec2",
                        operation=operation, region="us-east-1", caller=caller, resource_ids=resource_ids,
                        params=params or {}, status=status, error_code=None if status < 300 else "Throttling",
                        fault=None, mutating=mutating)


@dataclass
class Invocation:
    finding_id: str
    started_mono: float
    ended_mono: float
    outcome: str = "ok"
    attempt: int = 1
    logs: str = "lots of output"
    result: Any = field(default_factory=lambda: {"status": "remediated"})
    error: Any = None

    @property
    def duration_ms(self) -> float:
        return (self.ended_mono - self.started_mono) * 1000


class NamesTheFinding:
    """Caused by a successful call of one operation whose parameters name the finding."""

    def __init__(self, operation: str, finding_id: str) -> None:
        self.operation, self.finding_id = operation, finding_id

    def is_causing(self, entry: Any) -> bool:
        return (entry.operation == self.operation and entry_succeeded(entry)
                and any(self.finding_id in text for text in flatten_strings(entry.params)))


def ledger(journal_window: int = 1000, blast: list[JournalEntry] | None = None) -> StormLedger:
    ids = [FID_A, FID_B]
    seen = blast if blast is not None else []

    def check_blast(entries: list[JournalEntry]) -> list[str]:
        seen.extend(entries)
        return []

    return StormLedger(
        finding_ids=ids, step_ids=["tag", "stop"], callers={RESPONDER},
        causing_operations={"CreateTags", "StopInstances"},
        build_observers=lambda index: {"tag": NamesTheFinding("CreateTags", ids[index]),
                                       "stop": NamesTheFinding("StopInstances", ids[index])},
        check_blast=check_blast, keep_window=journal_window)


def tag(fid: str, at: float, status: int = 200) -> JournalEntry:
    return call("CreateTags", at, params={"Tags": [{"Key": "gdsim:finding-id", "Value": fid}]}, status=status)


def test_calls_are_charged_to_the_invocation_they_fall_in() -> None:
    journal, book = Journal(), ledger()
    for entry in (tag(FID_A, 10.1), call("DescribeInstances", 10.2, mutating=False),
                  call("StopInstances", 10.3, params={"Why": FID_A}), tag(FID_B, 11.1), tag(FID_B, 11.4),
                  tag(FID_A, 11.5)):  # names A, but made while B was handled
        journal.append(entry)
    invocations = [Invocation(FID_A, 10.0, 10.5), Invocation(FID_B, 11.0, 11.6)]
    book.fold(journal, invocations)
    assert book.moment(0, 0) == 10.11 and book.moment(1, 0) == 10.31
    assert book.moment(0, 1) == 11.41 and book.moment(1, 1) is None
    assert (book.handled(0), book.handled(1)) == (10.5, 11.6)
    assert list(book.unevidenced()) == [(1, 1)]
    assert book.api_calls == 6 and book.invocations == 2 and book.invocation_errors == 0
    assert set(book.slowest_calls()) == {"ec2:CreateTags", "ec2:DescribeInstances", "ec2:StopInstances"}


def test_retries_count_until_the_first_good_invocation_and_a_late_duplicate_does_not() -> None:
    journal, book = Journal(), ledger()
    failing = Invocation(FID_A, 1.0, 1.5, outcome="error", error={"errorType": "Boom"})
    for entry in (tag(FID_A, 1.1), tag(FID_A, 2.1), tag(FID_A, 9.1)):
        journal.append(entry)
    book.fold(journal, [failing, Invocation(FID_A, 2.0, 2.5, attempt=2), Invocation(FID_A, 9.0, 9.5)])
    assert book.moment(0, 0) == 2.11  # the latest before the first good end, not the duplicate's
    assert book.handled(0) == 2.5 and book.first_started[0] == 1.0
    assert book.invocation_errors == 1 and book.failed_invocations == [failing]
    assert failing.logs == "" and failing.error == {"errorType": "Boom"}  # the error stays, not the output
    assert list(book.first_attempt_started) == [1.0, 9.0]


def test_calls_of_an_invocation_still_running_wait_for_it_to_end() -> None:
    journal, book = Journal(), ledger()
    invocations: list[Invocation] = []
    journal.append(tag(FID_A, 3.1))
    book.fold(journal, invocations)
    assert book.moment(0, 0) is None
    journal.append(tag(FID_A, 3.2, status=500))  # failed: never evidence
    invocations.append(Invocation(FID_A, 3.0, 3.3))
    book.fold(journal, invocations)
    assert book.moment(0, 0) == 3.11 and invocations == []


def test_the_journal_forgets_what_was_folded_but_a_recent_window() -> None:
    journal, folded = Journal(), []
    book = ledger(journal_window=2, blast=folded)
    for at in (1.0, 1.1, 1.2, 1.3, 1.4):
        journal.append(tag(FID_A, at))
    invocations = [Invocation(FID_A, 0.9, 1.5)]
    book.fold(journal, invocations)
    assert [entry.seq for entry in journal.entries()] == [4, 5]
    assert invocations == []  # the runtime's records are taken once folded
    journal.append(tag(FID_B, 2.1))
    invocations.append(Invocation(FID_B, 2.0, 2.2))
    book.fold(journal, invocations)
    assert [entry.seq for entry in journal.entries()] == [5, 6] and invocations == []
    assert book.moment(0, 0) == 1.41 and book.moment(0, 1) == 2.11 and book.invocations == 2
    book.check_pending_blast()
    book.check_pending_blast()
    assert [entry.seq for entry in folded] == [1, 2, 3, 4, 5, 6]  # each mutating call checked once


def test_only_the_responders_calls_count() -> None:
    journal, book = Journal(), ledger()
    journal.append(call("CreateTags", 1.1, params={"x": FID_A}, caller="AKIAHARNESS000000001"))
    book.fold(journal, [Invocation(FID_A, 1.0, 1.2)])
    assert book.api_calls == 0 and book.moment(0, 0) is None and book.kept == []


# ---------------------------------------------------------------- compaction


def publish(topic: str, message: dict[str, Any], at: float, *, level: str | None = None,
            subject: str = "GuardDuty finding") -> JournalEntry:
    params: dict[str, Any] = {"TopicArn": topic, "Message": json.dumps(message), "Subject": subject}
    if level is not None:
        params["MessageAttributes"] = {"level": {"DataType": "Number", "StringValue": level}}
    return call("Publish", at, params=params, resource_ids=(topic,))


def snapshot(fid: str, volume: str, instance: str, at: float) -> JournalEntry:
    return call("CreateSnapshot", at, resource_ids=(volume,), params={
        "VolumeId": volume,
        "Description": f"Forensic copy of {volume} (/dev/sdf) of {instance}, finding {fid}, taken by the "
                       "crypto-mining runbook for the incident record",
        "TagSpecifications": [{"ResourceType": "snapshot", "Tags": [
            {"Key": "gdsim:finding-id", "Value": fid}, {"Key": "gdsim:instance-id", "Value": instance},
            {"Key": "gdsim:device", "Value": "/dev/sdf"}]}]})


def side_effects() -> list[JournalEntry]:
    notify = {"finding_id": FID_A, "finding_type": "CryptoCurrency:EC2/BitcoinTool.B!DNS", "severity": 8,
              "title": "EC2 instance querying a domain name associated with Bitcoin activity " * 3}
    return [
        publish(ONCALL, notify, 1.0),
        publish(ONCALL, notify, 1.1),  # a duplicate message
        publish(ONCALL, {**notify, "finding_id": FID_B}, 1.2),
        publish(PAGER, {"level": 1, "contact": "ir-oncall-primary", "finding_id": FID_B,
                        "reason": "quarantine failed: " + "x" * 300}, 1.3, level="1"),
        call("Publish", 1.35, params={"TopicArn": PAGER, "Message": f"page about {FID_A} " + "y" * 200,
                                      "MessageAttributes": {"level": {"DataType": "Number", "StringValue": "2"}}},
             resource_ids=(PAGER,)),
        snapshot(FID_A, "vol-1", "i-1", 1.4),
        snapshot(FID_A, "vol-1", "i-1", 1.5),  # a duplicate snapshot
        snapshot(FID_B, "vol-2", "i-2", 1.6),
        call("CreateSnapshot", 1.7, params={"VolumeId": "vol-2", "Description": "untagged"}, resource_ids=("vol-2",)),
    ]


def test_compacted_calls_give_the_invariants_the_same_answers() -> None:
    mentions = Mentions([FID_A, FID_B])
    full = side_effects()
    compact = [compact_entry(entry, mentions) for entry in full]
    scopes = {FID_A: {"i-1", "vol-1"}, FID_B: {"i-2", "vol-2"}}
    expected = no_duplicate_side_effects(full, scopes, responder_callers={RESPONDER})
    assert not expected.held and len(expected.violations) == 3  # the untagged snapshot is charged by its volume
    assert no_duplicate_side_effects(compact, scopes, responder_callers={RESPONDER}) == expected
    assert pages_from_journal(compact, PAGER, [FID_A, FID_B]) == pages_from_journal(full, PAGER, [FID_A, FID_B]) \
        == {FID_A: [2], FID_B: [1]}
    assert sum(len(json.dumps(entry.params)) for entry in compact) < sum(len(json.dumps(e.params)) for e in full) / 2
    assert all(math.isclose(a.mono, b.mono) and a.resource_ids == b.resource_ids for a, b in zip(full, compact,
                                                                                             strict=True))


def test_mentions_finds_every_finding_a_text_names() -> None:
    mentions = Mentions([FID_A, FID_B, "c" * 30])
    assert mentions([f"x{FID_B}y", "nothing", f"{FID_A}"]) == [FID_B, FID_A]
    assert mentions(["c" * 31]) == ["c" * 30]
    assert mentions([]) == []


def test_blast_radius_violations_are_collected_batch_by_batch() -> None:
    journal = Journal()
    book = StormLedger(
        finding_ids=[FID_A], step_ids=["tag"], callers={RESPONDER},
        causing_operations={"CreateTags"}, build_observers=lambda index: {},
        check_blast=lambda entries: [f"{e.operation} seq {e.seq}" for e in entries
                                     if e.operation == "TerminateInstances"])
    journal.append(call("TerminateInstances", 1.0))
    journal.append(call("DescribeInstances", 1.1, mutating=False))
    book.fold(journal, [])
    assert book.blast_violations == []  # not checked until a batch fills or the storm ends
    book.check_pending_blast()
    assert book.blast_violations == ["TerminateInstances seq 1"]
