"""Reading and stopping an EC2 instance, within what a runbook allows (stop, never terminate)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from responders.lib.events import EventRejected, reading
from responders.lib.idempotency import tags_of

DEFAULT_PROTECTED_TAG = "gdsim:protected"
_FALSE_WORDS = ("", "false", "no", "0", "off")


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def describe_instance(ec2: Any, instance_id: str) -> dict[str, Any] | None:
    """The DescribeInstances item, or None when the instance does not exist here."""
    try:
        reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    except ClientError as exc:
        if error_code(exc).startswith("InvalidInstanceID"):
            return None
        raise
    instances = [i for r in reservations for i in r.get("Instances", [])]
    return instances[0] if instances else None


def read_instance(ec2: Any, instance_id: str, finding_id: str) -> dict[str, Any]:
    """The instance a finding names, read back (EventRejected when it cannot be read or is not here)."""
    with reading(f"instance {instance_id}", finding_id):
        instance = describe_instance(ec2, instance_id)
    if instance is None:
        raise EventRejected(f"instance {instance_id} does not exist in this account and region", finding_id)
    return instance


def state_of(instance: dict[str, Any]) -> str:
    return str(instance.get("State", {}).get("Name", "unknown"))


def check_running(instance: dict[str, Any], finding_id: str) -> None:
    """EventRejected for an instance on its way out: there is nothing left to contain."""
    state = state_of(instance)
    if state in ("shutting-down", "terminated"):
        raise EventRejected(f"instance {instance['InstanceId']} is {state}: nothing left to contain", finding_id)


def protection(instance: dict[str, Any], protected_tag: str = DEFAULT_PROTECTED_TAG) -> str | None:
    """Why the instance must not be stopped, or None. ``protected_tag`` is ``key`` or ``key=value``."""
    key, sep, wanted = protected_tag.partition("=")
    value = tags_of(instance).get(key)
    if value is None:
        return None
    if sep:
        return f"tagged {key}={value}" if value == wanted else None
    return f"tagged {key}={value}" if value.strip().lower() not in _FALSE_WORDS else None


def stop_instance(ec2: Any, instance: dict[str, Any]) -> str:
    """Stop unless already stopping or stopped; returns what happened. Never terminates."""
    state = state_of(instance)
    if state in ("stopping", "stopped"):
        return f"already {state}"
    ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
    return f"stop requested (was {state})"
