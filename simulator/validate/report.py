"""Validate loaded records and render the outcome as text lines or JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from simulator.validate.envelope import validate_event
from simulator.validate.finding import validate_finding
from simulator.validate.issues import Issue
from simulator.validate.loader import Record


@dataclass(frozen=True)
class Options:
    """How lenient to be: shape only, retired types as warnings, extra envelope sources."""

    strict_semantics: bool = True
    allow_retired: bool = False
    extra_sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Result:
    record: Record
    issues: list[Issue] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(issue.level == "error" for issue in self.issues)

    @property
    def finding(self) -> dict[str, Any] | None:
        obj = self.record.obj
        if self.record.kind == "event":
            obj = obj.get("detail")
        return obj if isinstance(obj, dict) else None

    def as_dict(self) -> dict[str, Any]:
        finding = self.finding or {}
        return {
            "file": self.record.source,
            "line": self.record.line,
            "root": self.record.root,
            "kind": self.record.kind,
            "id": finding.get("id") if isinstance(finding.get("id"), str) else None,
            "type": finding.get("type") if isinstance(finding.get("type"), str) else None,
            "valid": self.valid,
            "issues": [issue.as_dict() for issue in self.issues],
        }


@dataclass(frozen=True)
class Summary:
    checked: int
    invalid: int
    warnings: int

    def render(self) -> str:
        noun = "finding" if self.checked == 1 else "findings"
        text = f"{self.checked} {noun} checked, {self.invalid} invalid"
        if self.warnings:
            text += f", {self.warnings} warning{'s' if self.warnings != 1 else ''}"
        return text


def validate_record(record: Record, options: Options = Options()) -> Result:
    if record.kind == "event":
        issues = validate_event(record.obj, extra_sources=options.extra_sources, root=record.root,
                                strict_semantics=options.strict_semantics, allow_retired=options.allow_retired)
    else:
        issues = validate_finding(record.obj, strict_semantics=options.strict_semantics,
                                  allow_retired=options.allow_retired, root=record.root)
    return Result(record, issues)


def validate_records(records: Iterable[Record], options: Options = Options()) -> list[Result]:
    return [validate_record(record, options) for record in records]


def summarize(results: Iterable[Result]) -> Summary:
    checked = invalid = warnings = 0
    for result in results:
        checked += 1
        invalid += not result.valid
        warnings += sum(issue.level == "warning" for issue in result.issues)
    return Summary(checked, invalid, warnings)


def render_text(results: Iterable[Result], *, quiet: bool = False) -> Iterator[str]:
    """``file:line: $.path: message [rule]`` per problem, then the summary (quiet: errors only)."""
    kept = list(results)
    for result in kept:
        for issue in result.issues:
            if quiet and issue.level != "error":
                continue
            yield f"{result.record.location}: {issue.render()}"
    if not quiet:
        yield summarize(kept).render()


def render_json(results: Iterable[Result], *, quiet: bool = False) -> str:
    """One JSON document: the counts and every result (quiet: only the results with problems)."""
    kept = list(results)
    summary = summarize(kept)
    shown = [result for result in kept if result.issues] if quiet else kept
    return json.dumps({"checked": summary.checked, "invalid": summary.invalid, "warnings": summary.warnings,
                       "results": [result.as_dict() for result in shown]}, indent=2)
