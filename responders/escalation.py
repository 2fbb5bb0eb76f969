"""Start the escalation ladder for a finding: for responders that escalate through the state machine rather
than with a single page (responders/stepfunctions/escalation_ladder.asl.json).

Event: a GuardDuty finding event, or ``{"finding_id": ..., "reason": ...}`` (what a responder that cannot
finish sends). Configuration (environment): ESCALATION_LADDER_ARN, the deployed ladder. The ladder claims
the finding itself, so starting it again for the same finding pages nobody twice.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from typing import Any

from responders.lib import aws

aws.preload("stepfunctions")

_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]")


class LadderNotConfigured(Exception):
    """ESCALATION_LADDER_ARN is not set: nothing can be escalated."""


def _request(event: Any) -> dict[str, Any]:
    """The ladder's input: the finding event as it came, or a request naming the finding."""
    if isinstance(event, dict) and isinstance(event.get("detail"), dict) and isinstance(event["detail"].get("id"), str):
        return event
    if isinstance(event, dict) and isinstance(event.get("finding_id"), str) and event["finding_id"]:
        reason = event.get("reason")
        return {"finding_id": event["finding_id"],
                "reason": str(reason)[:1000] if reason else "a responder could not finish its runbook"}
    raise ValueError("the event names no finding: send a GuardDuty finding event or {finding_id, reason}")


def _finding_id(request: dict[str, Any]) -> str:
    return str(request["detail"]["id"] if "detail" in request else request["finding_id"])


def handler(event: Any, context: Any) -> dict[str, Any]:
    ladder = os.environ.get("ESCALATION_LADDER_ARN")
    if not ladder:
        raise LadderNotConfigured("set ESCALATION_LADDER_ARN to the escalation ladder's state machine ARN")
    try:
        request = _request(event)
    except ValueError as rejected:
        print(f"[escalation] {rejected}")
        return {"status": "rejected", "reason": str(rejected)}
    finding_id = _finding_id(request)
    name = f"{_NAME_CHARACTERS.sub('-', finding_id)[:48] or 'finding'}-{uuid.uuid4().hex[:12]}"
    started = aws.client("stepfunctions").start_execution(stateMachineArn=ladder, name=name,
                                                          input=json.dumps(request, default=str))
    print(f"[escalation] escalating finding {finding_id}: {started['executionArn']}")
    return {"status": "escalating", "finding_id": finding_id, "execution_arn": started["executionArn"]}
