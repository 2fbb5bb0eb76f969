"""A journal that forgets what its reader has folded in: numbering, reading and waiting go on unchanged."""

from __future__ import annotations

import threading
import time

from simulator.gateway.journal import Journal, JournalEntry


def entry(operation: str = "DescribeInstances") -> JournalEntry:
    now = time.monotonic()
    return JournalEntry(seq=0, mono=now, mono_start=now - 0.001, wall=time.time(), service="ec2",
                        operation=operation, region="us-east-1", caller="AKIARESPONDER0000001", resource_ids=("i-1",),
                        params={"InstanceIds": ["i-1"]}, status=200, error_code=None, fault=None, mutating=False)


def filled(count: int) -> Journal:
    journal = Journal()
    for _ in range(count):
        journal.append(entry())
    return journal


def test_forgetting_keeps_the_numbering_and_what_is_left() -> None:
    journal = filled(5)
    assert journal.first_seq == 1
    assert journal.forget(3) == 3
    assert (journal.first_seq, journal.last_seq, len(journal)) == (4, 5, 5)
    assert [item.seq for item in journal.entries()] == [4, 5]
    assert [item.seq for item in journal.entries(since_seq=4)] == [5]
    assert [item.seq for item in journal.entries(since_seq=1)] == [4, 5]  # what is gone is simply not there
    assert journal.append(entry()).seq == 6
    assert [item.seq for item in journal.entries(since_seq=journal.last_seq)] == []


def test_forgetting_is_idempotent_and_never_goes_past_the_last_entry() -> None:
    journal = filled(3)
    assert journal.forget(0) == 0 and journal.forget(-5) == 0
    assert journal.forget(2) == 2 and journal.forget(2) == 0 and journal.forget(1) == 0
    assert journal.forget(99) == 1
    assert journal.entries() == [] and journal.first_seq == 4 and journal.last_seq == 3
    assert journal.append(entry()).seq == 4 and [item.seq for item in journal.entries()] == [4]


def test_labels_and_subscribers_see_every_entry_whatever_is_forgotten() -> None:
    journal = Journal()
    seen: list[int] = []
    journal.subscribe(lambda item: seen.append(item.seq))
    journal.label_caller("AKIARESPONDER0000001", "responder")
    for _ in range(4):
        journal.append(entry())
        journal.forget(journal.last_seq - 1)
    assert seen == [1, 2, 3, 4]
    assert [item.seq for item in journal.entries(label="responder")] == [4]


def test_wait_for_after_forgetting_sees_only_new_entries() -> None:
    journal = filled(3)
    journal.forget(3)
    assert journal.wait_for(lambda item: True, timeout=0) is None

    def later() -> None:
        time.sleep(0.05)
        journal.append(entry("StopInstances"))

    thread = threading.Thread(target=later)
    thread.start()
    found = journal.wait_for(lambda item: item.operation == "StopInstances", timeout=5, since_seq=2)
    thread.join()
    assert found is not None and found.seq == 4
