"""The journal: ordered, thread-safe, waitable, observable, filterable by who called."""

from __future__ import annotations

import dataclasses
import threading
import time

from simulator.gateway.journal import Journal, JournalEntry


def entry(operation: str = "DescribeInstances", caller: str = "AKIARESPONDER0000001",
          **changes: object) -> JournalEntry:
    now = time.monotonic()
    fields: dict[str, object] = {
        "seq": 0, "mono": now, "mono_start": now - 0.001, "wall": time.time(), "service": "ec2",
        "operation": operation, "region": "us-east-1", "caller": caller, "resource_ids": ("i-1",),
        "params": {"InstanceIds": ["i-1"]}, "status": 200, "error_code": None, "fault": None, "mutating": False,
    }
    fields.update(changes)
    return JournalEntry(**fields)  # type: ignore[arg-type]


def test_sequence_numbers_start_at_one_and_replace_the_given_ones() -> None:
    journal = Journal()
    first = journal.append(entry(seq=99))
    second = journal.append(entry(seq=99))
    assert (first.seq, second.seq, journal.last_seq, len(journal)) == (1, 2, 2, 2)
    assert [item.seq for item in journal.entries(since_seq=1)] == [2]
    assert journal.entries(since_seq=2) == []


def test_entries_are_hashable_and_params_do_not_take_part_in_equality() -> None:
    one = entry(params={"a": 1})
    assert len({one, one}) == 1
    assert one == dataclasses.replace(one, params={"different": True})
    assert one != dataclasses.replace(one, status=500)


def test_callers_are_labelled_and_filtered() -> None:
    journal = Journal()
    journal.label_caller("AKIARESPONDER0000001", "responder")
    journal.label_caller("AKIAHARNESS000000001", "harness")
    journal.append(entry(caller="AKIARESPONDER0000001"))
    journal.append(entry(caller="AKIAHARNESS000000001"))
    journal.append(entry(caller="AKIASOMEONEELSE00001"))
    assert [item.seq for item in journal.entries(label="responder")] == [1]
    assert [item.seq for item in journal.entries(label="harness")] == [2]
    assert journal.label_of("AKIASOMEONEELSE00001") is None


def test_wait_for_finds_an_existing_entry_at_once() -> None:
    journal = Journal()
    journal.append(entry("StopInstances"))
    found = journal.wait_for(lambda item: item.operation == "StopInstances", timeout=0)
    assert found is not None and found.seq == 1


def test_wait_for_wakes_on_an_entry_from_another_thread() -> None:
    journal = Journal()
    journal.append(entry("DescribeInstances"))
    appender = threading.Timer(0.05, lambda: journal.append(entry("StopInstances")))
    appender.start()
    try:
        found = journal.wait_for(lambda item: item.operation == "StopInstances", timeout=10)
    finally:
        appender.join()
    assert found is not None and found.seq == 2


def test_wait_for_respects_since_seq_and_gives_none_on_timeout() -> None:
    journal = Journal()
    journal.append(entry("StopInstances"))
    assert journal.wait_for(lambda item: item.operation == "StopInstances", timeout=0.01, since_seq=1) is None


def test_subscribers_see_every_new_entry_and_their_errors_are_kept() -> None:
    journal = Journal()
    seen: list[int] = []

    def broken(_: JournalEntry) -> None:
        raise RuntimeError("observer bug")

    unsubscribe = journal.subscribe(lambda item: seen.append(item.seq))
    journal.subscribe(broken)
    journal.append(entry())
    unsubscribe()
    journal.append(entry())
    assert seen == [1]
    assert journal.last_seq == 2
    assert [str(error) for error in journal.subscriber_errors] == ["observer bug", "observer bug"]


def test_concurrent_appends_get_unique_contiguous_sequence_numbers() -> None:
    journal = Journal()
    threads = [threading.Thread(target=lambda: [journal.append(entry()) for _ in range(200)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [item.seq for item in journal.entries()] == list(range(1, 1601))
