"""The people on the escalation path, played by the harness: they read every page and one of them
acknowledges it, at a chosen level or never.

An acknowledgement is ``level``, ``contact`` and ``acknowledged_at`` set on the finding's item in the run's
escalation table (DynamoDB, keyed by ``finding_id``; a ladder may have claimed the item already), once per
finding: the first person to take it wins. Escalation ladders read it before paging the next level.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from simulator.observers.notify import TopicListener, page_fields
from simulator.stepfunctions.names import ACK_KEY, ack_table_name
from simulator.targets.base import Credentials, Sandbox

DEFAULT_POLL_INTERVAL = 0.05


@dataclass(frozen=True)
class Page:
    """A page as it reached the on-call."""

    level: int | None
    finding_id: str | None
    contact: str | None
    mono: float


@dataclass(frozen=True)
class Acknowledgement:
    finding_id: str
    level: int
    contact: str | None
    mono: float


def escalation_topic_arn(env: Any) -> str:
    path = getattr(env, "escalation", None) or {}
    topic = path.get("topic_arn")
    if not topic:
        raise ValueError("the environment has no escalation path (provision the scenario first)")
    return str(topic)


class OnCallPlayer:
    """Watches the escalation topic and, when level ``ack_at_level`` is paged about a finding, writes the
    acknowledgement (after ``delay_seconds``, the time a person takes to respond). ``None``: nobody ever
    acknowledges.

    ``start()`` creates the acknowledgement table if needed and subscribes before anything is paged;
    ``pages`` and ``acknowledgements`` record what happened; ``stop()`` removes the subscription.
    With ``endpoint_url`` (the gateway) and ``credentials`` the acknowledgements are journaled.
    """

    def __init__(self, sandbox: Sandbox, env: Any, ack_at_level: int | None, *, delay_seconds: float = 0.0,
                 topic_arn: str | None = None, table_name: str | None = None, endpoint_url: str | None = None,
                 credentials: Credentials | None = None, poll_interval: float = DEFAULT_POLL_INTERVAL) -> None:
        if ack_at_level is not None and ack_at_level < 1:
            raise ValueError(f"ack_at_level must be 1 or more (or None), not {ack_at_level}")
        self.sandbox = sandbox
        self.env = env
        self.ack_at_level = ack_at_level
        self.delay_seconds = max(0.0, delay_seconds)
        self.topic_arn = topic_arn or escalation_topic_arn(env)
        self.table_name = table_name or ack_table_name(env.run_id)
        self.pages: list[Page] = []
        self.acknowledgements: list[Acknowledgement] = []
        self.errors: list[str] = []
        self._endpoint_url = endpoint_url
        self._credentials = credentials
        self._poll_interval = poll_interval
        self._listener = TopicListener(self.topic_arn)
        self._due: list[tuple[float, Page]] = []
        self._acknowledged: set[str] = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> OnCallPlayer:
        if self._thread is not None:
            return self
        from simulator.stepfunctions.deploy import create_ack_table

        create_ack_table(self.sandbox, self.env.run_id, table_name=self.table_name)
        self._listener.subscribe(self.sandbox)
        self._thread = threading.Thread(target=self._loop, name="gdsim-oncall", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        with contextlib.suppress(ClientError, BotoCoreError):
            self._listener.close(self.sandbox)

    def __enter__(self) -> OnCallPlayer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- what happened ----------------------------------------------------------------------------

    def levels_paged(self, finding_id: str | None = None) -> list[int]:
        """The levels paged (about ``finding_id`` if given), in the order they arrived."""
        with self._lock:
            return [page.level for page in self.pages if page.level is not None
                    and (finding_id is None or page.finding_id == finding_id)]

    def wait_for_level(self, level: int, timeout: float) -> Page | None:
        """The first page of ``level``, waiting up to ``timeout`` seconds for it."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = next((page for page in self.pages if page.level == level), None)
            if found is not None or time.monotonic() >= deadline:
                return found
            time.sleep(self._poll_interval)

    # -- internals --------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._read_pages()
                self._acknowledge_due()
            except (ClientError, BotoCoreError) as error:
                self.errors.append(f"on-call: {error}")
            self._stop.wait(self._poll_interval)

    def _read_pages(self) -> None:
        for delivery in self._listener.drain(self.sandbox):
            level, finding_id = page_fields(delivery.message, delivery.attributes)
            page = Page(level, finding_id, _contact(delivery.message), time.monotonic())
            with self._lock:
                self.pages.append(page)
            if self.ack_at_level is not None and level == self.ack_at_level and finding_id:
                self._due.append((page.mono + self.delay_seconds, page))

    def _acknowledge_due(self) -> None:
        now = time.monotonic()
        ready = [item for item in self._due if item[0] <= now]
        self._due = [item for item in self._due if item[0] > now]
        for _, page in ready:
            assert page.finding_id is not None and page.level is not None
            if page.finding_id in self._acknowledged:
                continue
            self._write(page)

    def _write(self, page: Page) -> None:
        assert page.finding_id is not None and page.level is not None
        client = self.sandbox.client("dynamodb", endpoint_url=self._endpoint_url, credentials=self._credentials)
        write_acknowledgement(client, self.table_name, page.finding_id, level=page.level, contact=page.contact)
        self._acknowledged.add(page.finding_id)
        with self._lock:
            self.acknowledgements.append(Acknowledgement(page.finding_id, page.level, page.contact,
                                                         time.monotonic()))


def write_acknowledgement(client: Any, table_name: str, finding_id: str, *, level: int,
                          contact: str | None) -> bool:
    """Acknowledge ``finding_id`` at ``level`` in the escalation table with a DynamoDB ``client``; False when
    someone acknowledged it first (only the first acknowledgement counts)."""
    values = {":level": {"N": str(level)},
              ":at": {"S": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
              ":contact": {"S": contact or ""}}
    try:
        # The item may already hold the escalation's own claim; only the first acknowledgement counts.
        client.update_item(TableName=table_name, Key={ACK_KEY: {"S": finding_id}},
                           UpdateExpression="SET #level = :level, acknowledged_at = :at, contact = :contact",
                           ConditionExpression="attribute_not_exists(#level)",
                           ExpressionAttributeNames={"#level": "level"}, ExpressionAttributeValues=values)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        return False
    return True


def _contact(message: str) -> str | None:
    try:
        body = json.loads(message)
    except ValueError:
        return None
    contact = body.get("contact") if isinstance(body, dict) else None
    return contact if isinstance(contact, str) else None


def start_oncall(scenario: Any, sandbox: Sandbox, env: Any, *, time_scale: float,
                 endpoint_url: str | None = None, credentials: Credentials | None = None) -> OnCallPlayer | None:
    """The on-call the scenario asks for (``oncall:``), started; None when the scenario has none."""
    spec = getattr(scenario, "oncall", None)
    if spec is None:
        return None
    return OnCallPlayer(sandbox, env, spec.ack_level, delay_seconds=spec.after_seconds / time_scale,
                        endpoint_url=endpoint_url, credentials=credentials).start()
