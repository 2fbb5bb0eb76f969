"""Validate GuardDuty findings and EventBridge events: shape (botocore's model, wire form) and semantics.

    from simulator.validate import validate_finding, validate_event
    issues = validate_finding(finding)            # [] when valid
    issues = validate_event(event)                # the envelope, then the finding under $.detail

Files: ``load_records(path)`` then ``validate_records(records, Options(...))``; ``simulate validate``
is the command line over the same parts.
"""

from __future__ import annotations

from typing import Any

from simulator.validate.envelope import FINDING_DETAIL_TYPE, GUARDDUTY_SOURCE, looks_like_event, validate_event
from simulator.validate.finding import validate_finding
from simulator.validate.issues import Issue, errors, is_valid
from simulator.validate.loader import Record, load_records, parse_records
from simulator.validate.report import (
    Options,
    Result,
    Summary,
    render_json,
    render_text,
    summarize,
    validate_record,
    validate_records,
)
from simulator.validate.semantic import RULES, Rule, run_rules
from simulator.validate.shape import check_shape


def validate_document(obj: Any, *, strict_semantics: bool = True, allow_retired: bool = False) -> list[Issue]:
    """A finding or an event, told apart by its keys."""
    if looks_like_event(obj):
        return validate_event(obj, strict_semantics=strict_semantics, allow_retired=allow_retired)
    return validate_finding(obj, strict_semantics=strict_semantics, allow_retired=allow_retired)


__all__ = [
    "FINDING_DETAIL_TYPE",
    "GUARDDUTY_SOURCE",
    "RULES",
    "Issue",
    "Options",
    "Record",
    "Result",
    "Rule",
    "Summary",
    "check_shape",
    "errors",
    "is_valid",
    "load_records",
    "looks_like_event",
    "parse_records",
    "render_json",
    "render_text",
    "run_rules",
    "summarize",
    "validate_document",
    "validate_event",
    "validate_finding",
    "validate_record",
    "validate_records",
]
