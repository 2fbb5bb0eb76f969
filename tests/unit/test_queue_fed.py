"""What the function runtime and the state machine responder share, without a queue: event ids, waiting, exports."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Mapping
from typing import Any

import pytest

from simulator.delivery.queue_fed import QueueFed, event_ids


@pytest.mark.parametrize(("event", "expected"), [
    ({"id": "ev-1", "detail": {"id": "f-1"}}, ("ev-1", "f-1")),
    ({"id": "ev-1", "detail": {"id": 7}}, ("ev-1", None)),
    ({"detail": "not a finding"}, (None, None)),
    ({"id": 3}, (None, None)),
    ("a raw body", (None, None)),
])
def test_event_ids(event: Any, expected: tuple[str | None, str | None]) -> None:
    assert event_ids(event) == expected


class Jobs(QueueFed):
    """Busy while jobs are open; jobs are closed from another thread, as a responder's work ends."""

    def __init__(self) -> None:
        super().__init__(None, account_id="123456789012", poll_wait_seconds=1)
        self.open = 0

    def _busy(self) -> bool:
        return self.open > 0 or super()._busy()

    def close_one(self) -> None:
        with self._cond:
            self.open -= 1
            self._cond.notify_all()

    def _deliver(self, message: Mapping[str, Any], received_mono: float) -> None:
        raise AssertionError("no queue, so nothing is delivered")

    def _receive_failed(self, error: Exception) -> None:
        raise AssertionError("no queue, so nothing is received")


def test_idle_once_the_work_of_the_subclass_has_ended() -> None:
    jobs = Jobs()
    assert jobs.wait_idle(timeout=0)
    jobs.open = 2
    assert not jobs.wait_idle(timeout=0.05)
    closer = threading.Thread(target=lambda: (jobs.close_one(), jobs.close_one()))
    closer.start()
    assert jobs.wait_idle(timeout=30)
    closer.join()
    assert jobs.open == 0


def test_a_message_body_becomes_the_event_or_stays_text() -> None:
    jobs = Jobs()
    assert jobs._event_of({"Body": "not json"}) == "not json"
    event = jobs._event_of({"Body": '{"id": "ev-1", "detail-type": "GuardDuty Finding", "detail": {"id": "f-1"}}'})
    assert event_ids(event) == ("ev-1", "f-1")


def test_package_exports_load_on_first_use() -> None:
    probe = (
        "import sys, simulator.delivery as d, simulator.stepfunctions as s\n"
        "assert 'simulator.delivery.runtime' not in sys.modules and 'boto3' not in sys.modules\n"
        "assert d.FunctionRuntime.__module__ == 'simulator.delivery.runtime'\n"
        "assert s.StateMachineResponder.__module__ == 'simulator.stepfunctions.run'\n"
        "try:\n    d.no_such_name\nexcept AttributeError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "module 'simulator.delivery' has no attribute 'no_such_name'"
