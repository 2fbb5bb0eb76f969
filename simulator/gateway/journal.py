"""The API journal: every call that went through the gateway, in order, for observers and verdicts."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One API call: what was asked, by whom, on what, and how it ended.

    ``mono_start``/``mono`` are ``time.monotonic()`` when the request arrived and when its response was
    ready; ``wall`` is ``time.time()`` at the same moment as ``mono``. ``caller`` is the access key id
    that signed the request ('' if unsigned). ``fault`` names the chaos fault injected, if any.
    """

    seq: int
    mono: float
    mono_start: float
    wall: float
    service: str
    operation: str
    region: str
    caller: str
    resource_ids: tuple[str, ...]
    params: dict[str, Any] = field(compare=False)
    status: int
    error_code: str | None
    fault: str | None
    mutating: bool

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def duration(self) -> float:
        return self.mono - self.mono_start


Subscriber = Callable[[JournalEntry], None]


class Journal:
    """Append-only, thread-safe list of :class:`JournalEntry` with waiting and live subscribers.

    Sequence numbers start at 1, so ``entries(since_seq=journal.last_seq)`` means "from now on". A long
    run may :meth:`forget` the oldest entries once it has read them; numbering is unaffected.
    Subscribers run in the appending thread, after the entry is visible; an exception in one is kept
    in ``subscriber_errors`` (the harness reports them) and never breaks the call being recorded.
    """

    def __init__(self) -> None:
        # Kept entries: consecutive sequence numbers from ``_forgotten + 1`` (forget() drops a prefix).
        self._entries: list[JournalEntry] = []
        self._forgotten = 0
        self._cond = threading.Condition()
        self._subscribers: list[Subscriber] = []
        self._labels: dict[str, str] = {}
        self.subscriber_errors: list[BaseException] = []

    # -- writing -----------------------------------------------------------------------------------------

    def append(self, entry: JournalEntry) -> JournalEntry:
        """Store ``entry`` under the next sequence number (its own ``seq`` is replaced) and return it."""
        with self._cond:
            stored = dataclasses.replace(entry, seq=self._forgotten + len(self._entries) + 1)
            self._entries.append(stored)
            subscribers = tuple(self._subscribers)
            self._cond.notify_all()
        for callback in subscribers:
            try:
                callback(stored)
            except Exception as error:  # a broken observer must not break the responder's call
                self.subscriber_errors.append(error)
                logger.exception("journal subscriber %r failed on entry %d", callback, stored.seq)
        return stored

    def forget(self, through_seq: int) -> int:
        """Stop keeping the entries up to ``through_seq``; returns how many were dropped.

        For long runs whose reader has folded what it needs into its own aggregates (a storm of
        thousands of findings): sequence numbers go on, ``entries()`` and ``wait_for()`` see only what is
        still kept, and subscribers are unaffected.
        """
        with self._cond:
            count = min(max(through_seq - self._forgotten, 0), len(self._entries))
            if count:
                del self._entries[:count]
                self._forgotten += count
            return count

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(entry)`` for every entry appended from now on; returns an unsubscribe function."""
        with self._cond:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._cond:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    # -- callers -----------------------------------------------------------------------------------------

    def label_caller(self, access_key_id: str, label: str) -> None:
        """Name who holds a key ('responder', 'harness', ...) so entries can be filtered by role."""
        with self._cond:
            self._labels[access_key_id] = label

    def label_of(self, caller: str) -> str | None:
        with self._cond:
            return self._labels.get(caller)

    # -- reading -----------------------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        """The sequence number of the latest entry (0 before the first); forgotten entries count."""
        with self._cond:
            return self._forgotten + len(self._entries)

    @property
    def first_seq(self) -> int:
        """The sequence number of the oldest entry still kept (``last_seq + 1`` when none is)."""
        with self._cond:
            return self._forgotten + 1

    def _index_after(self, seq: int) -> int:
        # Called with the lock held: the list index of the first kept entry with a larger sequence number.
        return min(max(seq - self._forgotten, 0), len(self._entries))

    def entries(self, since_seq: int = 0, *, label: str | None = None) -> list[JournalEntry]:
        """Kept entries with ``seq > since_seq``, oldest first; only those whose caller has ``label`` if given."""
        with self._cond:
            selected = self._entries[self._index_after(since_seq):]
            labels = dict(self._labels) if label is not None else {}
        if label is None:
            return list(selected)
        return [entry for entry in selected if labels.get(entry.caller) == label]

    def wait_for(self, predicate: Callable[[JournalEntry], bool], timeout: float, *,
                 since_seq: int = 0) -> JournalEntry | None:
        """The first entry after ``since_seq`` matching ``predicate``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        checked = max(since_seq, 0)
        while True:
            with self._cond:
                fresh = self._entries[self._index_after(checked):]
                checked = self._forgotten + len(self._entries)
            for entry in fresh:
                if predicate(entry):
                    return entry
            with self._cond:
                remaining = deadline - time.monotonic()
                if self._forgotten + len(self._entries) == checked:
                    if remaining <= 0:
                        return None
                    self._cond.wait(remaining)

    def __len__(self) -> int:
        return self.last_seq
