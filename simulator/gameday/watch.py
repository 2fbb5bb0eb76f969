"""Watches every injected finding while its run goes on: the pages its escalation topic gets (from the run's
API journal, dated by the gateway's clock) and the acknowledgement record the escalation ladder reads
(polled in the run's escalation table, where the simulated on-call and `simulate ack` write it)."""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from simulator.gameday.live import FindingLive, Tracker
from simulator.observers.base import entry_succeeded
from simulator.observers.notify import published_page_fields
from simulator.stepfunctions.names import ACK_KEY

DEFAULT_INTERVAL = 0.2
_PUBLISH = frozenset({"Publish"})


class Watcher:
    """A thread polling every injected, unfinished finding of ``tracker`` each ``interval`` seconds."""

    def __init__(self, tracker: Tracker, *, interval: float = DEFAULT_INTERVAL) -> None:
        self.tracker = tracker
        self.interval = interval
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pages_lock = threading.Lock()

    def start(self) -> Watcher:
        self._thread = threading.Thread(target=self._loop, name="gameday-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception as error:  # the scoreboard must keep going; the report says what failed
                self.errors.append(f"watching the findings failed: {error!r}")

    def poll(self) -> None:
        for live in self.tracker:
            if live.injected and not live.finished:
                self.poll_finding(live)

    def poll_finding(self, live: FindingLive) -> None:
        self.read_pages(live)
        sandbox = live.sandbox
        if live.ack is None and sandbox is not None:
            with contextlib.suppress(ClientError, BotoCoreError):  # the run may be tearing its sandbox down
                self._read_ack(live, sandbox)

    def read_pages(self, live: FindingLive) -> None:
        """Pages about the finding published to its escalation topic since the last read (also called from the
        finding's own thread once its run has ended, for the last ones)."""
        journal = live.journal
        if journal is None or not live.topic_arn:
            return
        with self._pages_lock:
            for entry in journal.entries(since_seq=live.journal_seq):
                live.journal_seq = max(live.journal_seq, entry.seq)
                if entry.operation not in _PUBLISH or entry.service != "sns" or not entry_succeeded(entry):
                    continue
                params = entry.params or {}
                if params.get("TopicArn") != live.topic_arn:
                    continue
                level, finding_id = published_page_fields(params)
                if level is not None and (finding_id is None or finding_id == live.finding_id):
                    self.tracker.page(live.key, level, entry.mono)

    def _read_ack(self, live: FindingLive, sandbox: Any) -> None:
        if not live.table_name or not live.finding_id:
            return
        client = sandbox.client("dynamodb")
        try:
            item = client.get_item(TableName=live.table_name, Key={ACK_KEY: {"S": live.finding_id}},
                                   ConsistentRead=True).get("Item")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return  # nothing in this run reads acknowledgements
            raise
        if not item or "level" not in item:
            return  # no record yet, or only the ladder's claim
        acknowledged = acknowledgement_fields(item)
        self.tracker.acknowledged(live.key, **acknowledged)


def acknowledgement_fields(item: dict[str, Any]) -> dict[str, Any]:
    """level, contact, acknowledged_at and its wall time from an escalation-table item (DynamoDB form)."""
    try:
        level = int(float(item["level"]["N"]))
    except (KeyError, TypeError, ValueError):
        level = 0
    contact = (item.get("contact") or {}).get("S") or None
    at = (item.get("acknowledged_at") or {}).get("S") or ""
    wall: float | None = None
    with contextlib.suppress(ValueError):
        wall = datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp() if at else None
    return {"level": level, "contact": contact, "acknowledged_at": at, "wall": wall}
