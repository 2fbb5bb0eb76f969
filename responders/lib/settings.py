"""A responder's configuration, from its environment: where the on-call is told and where pages go, which
tag protects a resource from containment, and what a containing runbook may do.

Read before the event is: a configuration that is missing or wrong raises ResponderConfigError, since a
responder without it cannot even escalate.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Self

from responders.lib import aws
from responders.lib.activity import DEFAULT_HOURS
from responders.lib.escalate import page
from responders.lib.instance import DEFAULT_PROTECTED_TAG

MAX_ACTIVITY_HOURS = 90 * 24  # CloudTrail event history keeps 90 days


class ResponderConfigError(Exception):
    """The responder's environment is incomplete or wrong; it cannot even escalate."""


def escalation_path(text: str | None) -> dict[str, Any]:
    """ESCALATION, the scenario's path as JSON: {"topic_arn", "levels": [{"level", "contact", ...}]}."""
    if not text:
        return {}
    try:
        path = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResponderConfigError(f"ESCALATION is not JSON: {exc}") from exc
    if not isinstance(path, dict) or not isinstance(path.get("levels", []), list):
        raise ResponderConfigError("ESCALATION must be an object with topic_arn and a list of levels")
    path["levels"] = [level for level in path.get("levels", []) if isinstance(level, dict)]
    return path


def env_names(name: str, default: str = "") -> tuple[str, ...]:
    """A comma-separated list (``default`` when unset)."""
    return tuple(item.strip() for item in os.environ.get(name, default).split(",") if item.strip())


def env_number(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise ResponderConfigError(f"{name}={text!r} is not a number") from None


def escalation_settings(also_required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Config's fields from the environment, every missing variable (with ``also_required``) named at once."""
    ladder = escalation_path(os.environ.get("ESCALATION"))
    pager = os.environ.get("PAGER_TOPIC_ARN") or ladder.get("topic_arn")
    first: dict[str, Any] = next((level for level in ladder.get("levels", []) if level.get("level") == 1), {})
    required = (("ONCALL_TOPIC_ARN", os.environ.get("ONCALL_TOPIC_ARN")), ("PAGER_TOPIC_ARN", pager),
                *((name, os.environ.get(name)) for name in also_required))
    missing = [name for name, value in required if not value]
    if missing:
        raise ResponderConfigError(f"set {' and '.join(missing)} in the responder's environment")
    return {
        "oncall_topic_arn": os.environ["ONCALL_TOPIC_ARN"],
        "pager_topic_arn": str(pager),
        "escalation_contact": os.environ.get("ESCALATION_CONTACT") or first.get("contact") or None,
        "protected_tag": os.environ.get("PROTECTED_TAG") or DEFAULT_PROTECTED_TAG,
    }


@dataclass(frozen=True)
class Config:
    """Where notifications and pages go, and which tag protects a resource from containment.

    Environment: ONCALL_TOPIC_ARN; PAGER_TOPIC_ARN and ESCALATION_CONTACT, else the topic and level-1
    contact of ESCALATION (the scenario's escalation path as JSON); PROTECTED_TAG (``key`` or
    ``key=value``, default gdsim:protected).
    """

    oncall_topic_arn: str
    pager_topic_arn: str
    escalation_contact: str | None
    protected_tag: str

    @classmethod
    def from_env(cls) -> Self:
        return cls(**escalation_settings())

    def page(self, finding_id: str | None, reason: str) -> str:
        """Page level 1 with ``reason``; returns the message id (raises if SNS refuses)."""
        return page(aws.client("sns"), self.pager_topic_arn, level=1, contact=self.escalation_contact,
                    finding_id=finding_id, reason=reason)


@dataclass(frozen=True)
class Containment:
    """What a deployment of a containing runbook may do: FINDING_TYPES (comma-separated, exact or
    ``prefix*``), ACTIONS (its containment steps, comma-separated; empty: none), FOLLOW_UP (what a human
    must do afterwards: paged), ACTIVITY_HOURS (CloudTrail look-back, default 24)."""

    finding_types: tuple[str, ...]
    actions: tuple[str, ...]
    follow_up: str
    activity_hours: float

    @classmethod
    def from_env(cls, actions: tuple[str, ...], default_types: str = "") -> Self:
        """``actions`` are the steps the runbook knows, all of them the default."""
        chosen = env_names("ACTIONS", ",".join(actions))
        unknown = [action for action in chosen if action not in actions]
        if unknown:
            raise ResponderConfigError(f"ACTIONS: unknown {', '.join(unknown)} (use {', '.join(actions)})")
        hours = env_number("ACTIVITY_HOURS", DEFAULT_HOURS)
        if not 0 < hours <= MAX_ACTIVITY_HOURS:
            raise ResponderConfigError(f"ACTIVITY_HOURS must be more than 0 and at most {MAX_ACTIVITY_HOURS} "
                                       "(CloudTrail's 90 days)")
        return cls(finding_types=env_names("FINDING_TYPES", default_types), actions=chosen,
                   follow_up=os.environ.get("FOLLOW_UP", "").strip(), activity_hours=hours)
