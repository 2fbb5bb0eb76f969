"""Telling people: SNS messages to the on-call topic."""

from __future__ import annotations

import json
from typing import Any

SUBJECT_LIMIT = 100  # SNS refuses longer subjects


def subject_line(text: str) -> str:
    """SNS subjects must be printable ASCII on one line, at most 100 characters."""
    clean = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text.replace("\n", " "))
    return clean[:SUBJECT_LIMIT] or "gdsim notification"


def notify(sns: Any, topic_arn: str, *, subject: str, message: dict[str, Any] | str,
           attributes: dict[str, str | int | float] | None = None) -> str:
    """Publish; returns the message id. Numbers in ``attributes`` go as SNS ``Number`` attributes."""
    body = message if isinstance(message, str) else json.dumps(message, sort_keys=True, default=str)
    params: dict[str, Any] = {"TopicArn": topic_arn, "Subject": subject_line(subject), "Message": body}
    if attributes:
        params["MessageAttributes"] = {
            name: {"DataType": "String" if isinstance(value, str) else "Number", "StringValue": str(value)}
            for name, value in attributes.items()
        }
    return str(sns.publish(**params)["MessageId"])


def finding_message(finding: dict[str, Any], *, instance_id: str | None, summary: str) -> dict[str, Any]:
    """The facts an on-call needs to recognise the finding: id, type, severity, resource."""
    return {
        "finding_id": finding.get("id"),
        "finding_type": finding.get("type"),
        "severity": finding.get("severity"),
        "account": finding.get("accountId"),
        "region": finding.get("region"),
        "instance_id": instance_id,
        "title": finding.get("title"),
        "summary": summary,
    }
