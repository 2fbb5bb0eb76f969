"""The context object a handler receives, shaped like the AWS Lambda Python runtime's."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def function_arn(function_name: str, *, region: str, account_id: str) -> str:
    return f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"


def log_stream_name(function_version: str = "$LATEST") -> str:
    """One stream per execution environment, named as Lambda names them."""
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    return f"{day}/[{function_version}]{uuid.uuid4().hex}"


@dataclass
class LambdaContext:
    """What ``handler(event, context)`` sees as ``context``.

    ``deadline_ms`` is wall-clock epoch milliseconds, as in Lambda, so the value means the same thing
    in the worker process as in the harness. ``memory_limit_in_mb`` is a string because the Lambda
    Python runtime hands it over as one (read from the environment).
    """

    function_name: str
    invoked_function_arn: str
    deadline_ms: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    memory_limit_in_mb: str = "128"
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None

    def __post_init__(self) -> None:
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"
        if not self.log_stream_name:
            self.log_stream_name = log_stream_name(self.function_version)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))
