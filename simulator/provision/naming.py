"""Names and tags of what the harness creates: every resource carries the run id and its logical name."""

from __future__ import annotations

import hashlib

RUN_TAG = "gdsim:run-id"
NAME_TAG = "gdsim:logical-name"


def run_tags(run_id: str, logical_name: str, extra: dict[str, str] | None = None) -> list[dict[str, str]]:
    """Tags in the Key/Value form EC2, IAM and SNS take."""
    tags = {**(extra or {}), RUN_TAG: run_id, NAME_TAG: logical_name}
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tags or []}


def physical_name(run_id: str, logical_name: str, limit: int, *, lower: bool = False) -> str:
    """A name unique to the run that still reads as the logical one: ``<run id>-<logical name>``.

    Too long for the service's limit: cut, with a short hash of the whole so it stays unique.
    """
    name = f"{run_id}-{logical_name}"
    if lower:
        name = name.lower()
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:limit - 9].rstrip('-')}-{digest}"


def ec2_arn(region: str, account_id: str, resource: str, resource_id: str) -> str:
    return f"arn:aws:ec2:{region}:{account_id}:{resource}/{resource_id}"
