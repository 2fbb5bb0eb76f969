"""What a storm keeps of its run, folded in as the run goes so memory stays flat in the number of findings.

Every fold reads the journal entries and the responder's invocations that came in since the last one:

* each (finding, step) gets the moment the last successful call causing the step came back, among the
  calls the responder made while it handled that finding (the function runtime runs one event at a
  time, so a call belongs to the invocation it falls in), up to its first invocation that ended well;
* mutating calls are checked against the blast radius a batch at a time;
* the calls the other invariants read later (snapshots and messages, for duplicates and pages) are kept
  compacted to what those invariants look at, as are the read-only calls that are the only witness of a
  step (a CloudTrail lookup changes nothing the sandbox could show);
* the responder's invocation records are taken out of the runtime's list once folded (those that did
  not end well are kept, without their output);
* the journal then forgets what was read, keeping a window of recent calls for CloudTrail lookups.

Per finding this keeps a few floats and a kilobyte or two, whatever the storm's size.
"""

from __future__ import annotations

import json
import math
import sys
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from simulator.gateway.journal import Journal, JournalEntry
from simulator.observers.base import entry_succeeded, flatten_strings
from simulator.observers.notify import published_page_fields

NAN = float("nan")
# Calls the invariants read after the storm: snapshots and messages (duplicates), pages (escalations).
SIDE_EFFECT_OPERATIONS = frozenset({"CreateSnapshot", "CreateSnapshots", "Publish"})
# Request strings longer than this (longer than any id or ARN) are kept only as the finding ids they mention.
SHORT_TEXT = 128
# Recent calls the journal keeps for the responder's own CloudTrail lookups (about 1.5 MB).
JOURNAL_WINDOW = 1000
# Mutating calls checked against the blast radius together: each check first maps the whole environment.
BLAST_BATCH = 200


class Mentions:
    """Finds which of many finding ids a text mentions, in time linear in the text's length."""

    def __init__(self, finding_ids: Iterable[str]) -> None:
        # Each id maps to itself: what is found is the one copy held here, not a slice of the text.
        self.ids = {fid: fid for fid in finding_ids if fid}
        self.lengths = sorted({len(fid) for fid in self.ids})

    def __call__(self, texts: Iterable[str]) -> list[str]:
        found: dict[str, None] = {}
        for text in texts:
            for length in self.lengths:
                for start in range(len(text) - length + 1):
                    piece = self.ids.get(text[start:start + length])
                    if piece is not None:
                        found.setdefault(piece, None)
        return list(found)


def compact_entry(entry: JournalEntry, mentions: Callable[[Iterable[str]], list[str]]) -> JournalEntry:
    """``entry`` with its parameters cut down to what the invariants read of a kept call.

    Kept: the topic, subject and volume named; a message as its page fields (level and finding id, the
    way :func:`published_page_fields` reads them); and the finding ids the call mentions, or, when it
    mentions none, every short string as it was (a call is charged to the finding it names, else to the
    one whose resource it names). Duplicate and page checks give the same answers on the
    compacted entry as on the original.
    """
    params = entry.params or {}
    compact: dict[str, Any] = {key: sys.intern(params[key]) for key in ("TopicArn", "Subject", "VolumeId",
                                                                       "InstanceId")
                               if isinstance(params.get(key), str)}
    rest = {key: value for key, value in params.items() if key not in compact}
    if entry.operation in ("Publish", "PublishBatch"):
        level, finding_id = published_page_fields(params)
        if level is not None or finding_id is not None:
            compact["Message"] = _page_text(level, finding_id)
        rest.pop("Message", None)
        rest.pop("MessageAttributes", None)
    named = mentions(flatten_strings(params))
    if named:
        compact["Mentions"] = tuple(named)
    else:
        # Nothing names a finding: the call is charged to whoever owns a resource among its strings.
        short = tuple(dict.fromkeys(sys.intern(text) for text in flatten_strings(rest) if len(text) <= SHORT_TEXT))
        if short:
            compact["Strings"] = short
    return _interned(entry, compact)


def _interned(entry: JournalEntry, params: dict[str, Any]) -> JournalEntry:
    # Thousands of kept entries repeat the same few services, operations, regions and callers.
    return replace(entry, params=params, service=sys.intern(entry.service), operation=sys.intern(entry.operation),
                   region=sys.intern(entry.region), caller=sys.intern(entry.caller),
                   resource_ids=tuple(sys.intern(rid) for rid in entry.resource_ids))


def _page_text(level: int | None, finding_id: str | None) -> str:
    return json.dumps({"level": level, "finding_id": finding_id}, separators=(",", ":"))


class StormLedger:
    """The storm's running aggregates (see the module's description).

    ``build_observers(index)`` gives finding ``index``'s observers (step id -> observer);
    ``check_blast(entries)`` returns the blast-radius violations of a batch of mutating calls.
    """

    def __init__(self, *, finding_ids: Sequence[str], step_ids: Sequence[str], callers: Iterable[str],
                 causing_operations: Iterable[str],
                 build_observers: Callable[[int], Mapping[str, Any]],
                 check_blast: Callable[[list[JournalEntry]], list[str]], keep_window: int = JOURNAL_WINDOW) -> None:
        self.finding_ids = list(finding_ids)
        self.index = {fid: position for position, fid in enumerate(self.finding_ids)}
        self.step_ids = list(step_ids)
        self.callers = frozenset(callers)
        self.causing_operations = frozenset(causing_operations)
        self.build_observers = build_observers
        self.check_blast = check_blast
        self.keep_window = keep_window
        self.mentions = Mentions(self.finding_ids)
        count = len(self.finding_ids)
        # Per step, per finding: when the last causing call came back (NaN: none).
        self.evidence = [array("d", [NAN]) * count for _ in self.step_ids]
        self.handled_at = array("d", [NAN]) * count  # end of the finding's first invocation that ended well
        self.first_started = array("d", [NAN]) * count  # start of its first invocation
        self.closed = bytearray(count)  # its first good invocation is folded: later calls are not its evidence
        self.first_attempt_started = array("d")
        self.invocation_ms = array("d")
        self.invocations = 0
        self.invocation_errors = 0
        self.failed_invocations: list[Any] = []  # the invocations that did not end well, output dropped
        self.api_calls = 0
        self.call_ms: dict[str, array[float]] = defaultdict(lambda: array("d"))  # "service:Operation" -> ms
        self.kept: list[JournalEntry] = []  # side effects and read-only witnesses, compacted
        self.blast_violations: list[str] = []
        self._unchecked: list[JournalEntry] = []  # mutating calls not yet checked against the blast radius
        self.folds = 0
        self._seq = 0
        self._pending: list[JournalEntry] = []  # causing calls of invocations not folded yet

    # -- folding -------------------------------------------------------------------------------------

    def fold(self, journal: Journal, invocations: list[Any]) -> None:
        """Fold in what came since the last fold, then let the journal forget it (but a recent window).

        ``invocations`` is the runtime's own list of records: those folded are taken out of it.
        """
        # Invocations first: every call of an invocation that has ended is in the journal by then.
        ended = list(invocations)
        fresh = journal.entries(since_seq=self._seq)
        if fresh:
            self._seq = fresh[-1].seq
        for entry in fresh:
            if entry.caller in self.callers:
                self._take(entry)
        self._unchecked.extend(entry for entry in fresh if entry.caller in self.callers and entry.mutating)
        if len(self._unchecked) >= BLAST_BATCH:
            self.check_pending_blast()
        for invocation in ended:
            self._attribute(invocation)
        # Records appended meanwhile come after these: only what was folded is taken.
        del invocations[:len(ended)]
        journal.forget(self._seq - self.keep_window)
        self.folds += 1

    def check_pending_blast(self) -> None:
        """Check the mutating calls not checked yet (the storm calls it once more after its last fold)."""
        if self._unchecked:
            self.blast_violations.extend(self.check_blast(self._unchecked))
            self._unchecked = []

    def _take(self, entry: JournalEntry) -> None:
        self.api_calls += 1
        self.call_ms[f"{entry.service}:{entry.operation}"].append(entry.duration * 1000)
        if entry.operation in self.causing_operations:
            self._pending.append(entry)
            if not entry.mutating and entry_succeeded(entry):
                # No state shows it but the journal: kept whole for the check that reads it.
                self.kept.append(_interned(entry, dict(entry.params or {})))
                return
        if entry.operation in SIDE_EFFECT_OPERATIONS and entry_succeeded(entry):
            self.kept.append(compact_entry(entry, self.mentions))

    def _attribute(self, invocation: Any) -> None:
        self.invocations += 1
        self.invocation_ms.append(invocation.duration_ms)
        if invocation.attempt == 1:
            self.first_attempt_started.append(invocation.started_mono)
        if invocation.outcome != "ok":
            self.invocation_errors += 1
            self.failed_invocations.append(invocation)
        start, end = invocation.started_mono, invocation.ended_mono
        window = [entry for entry in self._pending if start <= entry.mono_start <= end]
        # The runtime runs one event at a time: no later invocation can hold a call that started before this end.
        self._pending = [entry for entry in self._pending if entry.mono_start > end]
        if invocation.outcome != "ok":
            invocation.logs, invocation.result = "", None  # its output can be kilobytes; the error stays
        index = self.index.get(invocation.finding_id or "")
        if index is None:
            return
        if math.isnan(self.first_started[index]) or start < self.first_started[index]:
            self.first_started[index] = start
        if self.closed[index]:
            return
        if window:
            observers = self.build_observers(index)
            for position, step_id in enumerate(self.step_ids):
                observer = observers.get(step_id)
                causing = [entry.mono for entry in window if observer is not None and observer.is_causing(entry)]
                if causing:
                    latest = max(causing)
                    known = self.evidence[position][index]
                    self.evidence[position][index] = latest if math.isnan(known) else max(known, latest)
        if invocation.outcome == "ok":
            self.closed[index] = 1
            self.handled_at[index] = end

    # -- reading -------------------------------------------------------------------------------------

    def moment(self, position: int, index: int) -> float | None:
        value = self.evidence[position][index]
        return None if math.isnan(value) else value

    def handled(self, index: int) -> float | None:
        value = self.handled_at[index]
        return None if math.isnan(value) else value

    def unevidenced(self) -> Iterable[tuple[int, int]]:
        """(finding index, step position) of every step no call of the responder accounts for."""
        for position, moments in enumerate(self.evidence):
            for index, value in enumerate(moments):
                if math.isnan(value):
                    yield index, position

    def witness_journal(self) -> Journal:
        """A journal of the kept calls, for checks that read the journal (read-only witnesses among them)."""
        journal = Journal()
        for entry in self.kept:
            journal.append(entry)
        return journal

    def slowest_calls(self, top: int = 5) -> dict[str, float]:
        """The operations the responder spent most time in, with their median duration (ms)."""
        from simulator.chaos.storm_report import percentile

        ranked = sorted(self.call_ms.items(), key=lambda item: -sum(item[1]))[:top]
        return {name: round(percentile(list(values), 50) or 0.0, 1) for name, values in ranked}
