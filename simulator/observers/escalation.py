"""Escalation that stops: a level that must never be paged once someone has acknowledged below it.

``escalation_not_paged{level}`` holds once the escalation of the finding is over without a page of that
level: someone acknowledged it at a lower level (the on-call's record in the run's acknowledgement table,
as the harness's on-call writes it), and no Step Functions execution handling the finding is still
running (a ladder ends when it reads the acknowledgement at the next level's time). A page of the level
at any moment before that means it never holds. The effect is dated by the last call that read or wrote
the acknowledgement, i.e. when the ladder made its decision.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from simulator.errors import InputError
from simulator.observers.base import Observer, entry_succeeded
from simulator.observers.clients import sandbox_client
from simulator.observers.notify import TopicListener, page_fields
from simulator.observers.registry import register
from simulator.stepfunctions.names import ACK_KEY, ack_table_name
from simulator.targets.base import Sandbox


def _whole_number(value: Any) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


@register("escalation_not_paged", "level", optional=("topic",))
class EscalationNotPaged(Observer):
    """No page of the level reached the escalation topic, and the escalation ended acknowledged below it."""

    causing_operations = frozenset({"GetItem", "PutItem", "UpdateItem"})

    @classmethod
    def defaults_from(cls, scenario: Any) -> dict[str, str]:
        topic = getattr(getattr(scenario, "escalation", None), "topic", None)
        return {"topic": topic} if topic else {}

    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        level = _whole_number(self.params.get("level"))
        if level is None or level < 1:
            raise InputError(f"escalation level {self.params.get('level')!r} is not a whole number",
                             field="expect.escalation_not_paged.level", fix="write level: 2")
        self.level = level
        self.topic_arn: str = self.resource("topic")["arn"]
        self.table_name = ack_table_name(env.run_id)
        self.listener = TopicListener(self.topic_arn)
        self.paged = False

    def prepare(self, sandbox: Sandbox) -> None:
        super().prepare(sandbox)
        self.listener.subscribe(sandbox)

    def cleanup(self, sandbox: Sandbox) -> None:
        self.listener.close(sandbox)

    def check(self, sandbox: Sandbox) -> bool:
        self.listener.drain(sandbox)
        if self.paged or self._level_paged():
            self.paged = True
            self.detail = f"level {self.level} was paged"
            return False
        acknowledged = self._acknowledged_level(sandbox)
        if acknowledged is None:
            self.detail = "nobody has acknowledged the finding's pages"
            return False
        if acknowledged >= self.level:
            self.detail = f"acknowledged only at level {acknowledged}"
            return False
        running = self._running_executions(sandbox)
        if running:
            self.detail = f"the escalation is still running ({running[0]})"
            return False
        self.detail = f"acknowledged at level {acknowledged}; the escalation ended without paging level {self.level}"
        return True

    def is_causing(self, entry: Any) -> bool:
        if entry.operation not in self.causing_operations or not entry_succeeded(entry):
            return False
        return (entry.params or {}).get("TableName") == self.table_name

    # -- internals -------------------------------------------------------------------------------

    def _level_paged(self) -> bool:
        for delivery in self.listener.deliveries:
            level, finding_id = page_fields(delivery.message, delivery.attributes)
            if level == self.level and (finding_id is None or finding_id == self.finding_id):
                return True
        return False

    def _acknowledged_level(self, sandbox: Sandbox) -> int | None:
        if not self.finding_id:
            return None
        try:
            item = sandbox_client(sandbox, "dynamodb").get_item(
                TableName=self.table_name, Key={ACK_KEY: {"S": self.finding_id}}, ConsistentRead=True).get("Item")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None  # no on-call plays this run, so nobody can acknowledge
            raise
        if not item or "level" not in item:
            return None  # no record, or only the ladder's claim on the finding
        level = _whole_number((item.get("level") or {}).get("N"))
        return level if level is not None else 0

    def _running_executions(self, sandbox: Sandbox) -> list[str]:
        """Names of running executions whose input names the finding."""
        sfn = sandbox_client(sandbox, "stepfunctions")
        names = []
        for machine in sfn.list_state_machines().get("stateMachines", []):
            running = sfn.list_executions(stateMachineArn=machine["stateMachineArn"],
                                          statusFilter="RUNNING").get("executions", [])
            for execution in running:
                described = sfn.describe_execution(executionArn=execution["executionArn"])
                if self.finding_id and self.finding_id in str(described.get("input", "")):
                    names.append(str(execution["name"]))
        return names
