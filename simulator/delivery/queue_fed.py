"""What a responder fed by the rule's queue does whatever runs it (a function, a state machine).

The queue is consumed on a thread and each message is handed over as the event EventBridge delivers;
once accepted, a message leaves the queue (retries are the responder's business, as with Lambda's own
event queue). A responder takes only what it has room for: a backlog waits in the queue, not in the
harness's memory. ``wait_idle`` tells when nothing is left to do: the queue empty, nothing being handed
over, and nothing the responder itself still has running.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from simulator.delivery.reconcile import reconcile_event
from simulator.errors import SandboxError

# How often a full responder looks again for room (it is also woken when an event is taken).
_ROOM_CHECK_SECONDS = 0.2
_QUEUE_DEPTH = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed"]


def event_ids(event: Any) -> tuple[str | None, str | None]:
    """(EventBridge event id, GuardDuty finding id) of a delivered event, None where absent."""
    if not isinstance(event, dict):
        return None, None
    event_id = event.get("id") if isinstance(event.get("id"), str) else None
    detail = event.get("detail")
    finding_id = detail.get("id") if isinstance(detail, dict) and isinstance(detail.get("id"), str) else None
    return event_id, finding_id


class QueueFed:
    """Base of the responders the harness feeds from the rule's queue.

    Subclasses implement ``_deliver`` (one received message) and ``_receive_failed`` (a failed poll),
    may extend ``_busy`` with work of their own, and set ``_sqs`` before ``_start_consuming``.
    """

    def __init__(self, queue_url: str | None, *, account_id: str, poll_wait_seconds: int) -> None:
        self.queue_url = queue_url
        self.account_id = account_id
        self._poll_wait = poll_wait_seconds
        self._sqs: Any = None
        self._cond = threading.Condition()
        self._receiving = 0
        self._stopped = False
        self._threads: list[threading.Thread] = []
        self._consumer: threading.Thread | None = None

    # -- for subclasses ---------------------------------------------------------------------------

    def _deliver(self, message: Mapping[str, Any], received_mono: float) -> None:
        raise NotImplementedError

    def _receive_failed(self, error: Exception) -> None:
        raise NotImplementedError

    def _has_room(self) -> bool:
        """Whether to receive more now; a subclass that queues events itself says no while that queue is full.
        Called with ``_cond`` held."""
        return True

    def _busy(self) -> bool:
        """Whether messages are being handed over; subclasses add what they still have running."""
        return bool(self._receiving)

    def _event_of(self, message: Mapping[str, Any]) -> Any:
        body = str(message.get("Body", ""))
        try:
            event = json.loads(body)
        except json.JSONDecodeError:
            return body
        return reconcile_event(event, account_id=self.account_id)

    def _start_thread(self, target: Callable[[], None], name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)
        return thread

    def _start_consuming(self, owner: str, thread_name: str) -> None:
        """Fail early on a missing queue, then consume it. The first call also pays botocore's one-off
        set-up now, not in the consumer thread while the harness injects (both would share one GIL)."""
        try:
            self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        except Exception as error:
            raise SandboxError(f"{owner}: cannot read queue {self.queue_url}: {error}") from error
        self._consumer = self._start_thread(self._consume_loop, thread_name)

    def _signal_stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def _join_threads(self) -> None:
        for thread in self._threads:
            if thread is not threading.current_thread():
                # The consumer may sit in a long poll; it checks the stop flag before touching what
                # it receives, so it is left to finish on its own rather than waited for.
                thread.join(timeout=0.05 if thread is self._consumer else 5)

    def _wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """True once ``predicate`` (read under the lock) holds, False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    # -- waiting ----------------------------------------------------------------------------------

    def wait_idle(self, timeout: float) -> bool:
        """True once nothing is being handed over or still running and the rule's queue is empty."""
        deadline = time.monotonic() + timeout
        while True:
            if not self._wait_until(lambda: not self._busy(), deadline - time.monotonic()):
                return False
            if self._queue_empty():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    # -- internals --------------------------------------------------------------------------------

    def _queue_empty(self) -> bool:
        if not self.queue_url or self._sqs is None:
            return True
        try:
            attributes = self._sqs.get_queue_attributes(QueueUrl=self.queue_url,
                                                        AttributeNames=_QUEUE_DEPTH)["Attributes"]
        except Exception:
            return True  # an unreachable queue holds nothing the responder could still be given
        return all(int(value) == 0 for value in attributes.values())

    def _consume_loop(self) -> None:
        while not self._stopped:
            with self._cond:
                while not self._stopped and not self._has_room():
                    self._cond.wait(_ROOM_CHECK_SECONDS)
                if self._stopped:
                    return
            try:
                response = self._sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=self._poll_wait)
            except Exception as error:
                if self._stopped:
                    return
                self._receive_failed(error)
                time.sleep(0.2)
                continue
            messages = response.get("Messages") or []
            if not messages:
                continue
            with self._cond:
                if self._stopped:
                    return  # left in the queue: nothing is handed over after stop()
                self._receiving += 1
            try:
                received = time.monotonic()
                for message in messages:
                    self._deliver(message, received)
                with contextlib.suppress(Exception):
                    self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
            finally:
                with self._cond:
                    self._receiving -= 1
                    self._cond.notify_all()
