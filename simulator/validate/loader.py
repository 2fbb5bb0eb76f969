"""Read findings and events from files: JSON (one object, a list, a GetFindings response) or JSON lines.

Each finding or event becomes a ``Record`` that knows its file, its line (JSON lines) and its JSON path
inside the document, so every problem can be located. A file that cannot be read or parsed raises
``InputError`` with one clear line.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.errors import InputError
from simulator.validate.envelope import looks_like_event
from simulator.validate.issues import json_type

JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
STDIN = "-"
# Keys a GetFindings response may carry beside its list: boto3 adds ResponseMetadata.
_RESPONSE_EXTRAS = frozenset({"ResponseMetadata"})
_EXPECTED = "a finding, an EventBridge event, a list of them, or a GetFindings response"


@dataclass(frozen=True)
class Record:
    """One finding or event and where it came from."""

    source: str
    line: int | None
    root: str
    obj: Any

    @property
    def kind(self) -> str:
        return "event" if looks_like_event(self.obj) else "finding"

    @property
    def location(self) -> str:
        return f"{self.source}:{self.line}" if self.line is not None else self.source


def load_records(path: str | Path) -> list[Record]:
    """Every finding or event in one file (``-`` reads standard input)."""
    source = str(path)
    json_lines = True if source.lower().endswith(JSON_LINES_SUFFIXES) else None
    return parse_records(_read_text(source), source, json_lines=json_lines)


def parse_records(text: str, source: str = "<text>", *, json_lines: bool | None = None) -> list[Record]:
    """The findings or events in ``text``; ``json_lines=None`` tells JSON from JSON lines by parsing."""
    if not text.strip():
        raise InputError("the file is empty", location=source, fix=f"give it {_EXPECTED}")
    if json_lines:
        return _json_lines(text, source)
    try:
        document = _parse(text)
    except json.JSONDecodeError as exc:
        # Several JSON values one after another: JSON lines under another name.
        if exc.msg == "Extra data" and json_lines is None:
            return _json_lines(text, source)
        raise InputError(f"invalid JSON: {exc.msg} (column {exc.colno})", location=f"{source}:{exc.lineno}",
                         fix="fix the JSON syntax") from None
    except ValueError as exc:
        raise InputError(f"invalid JSON: {exc}", location=source, fix="fix the JSON") from None
    return _unwrap(document, source, None)


def _read_text(source: str) -> str:
    try:
        raw = sys.stdin.buffer.read() if source == STDIN else Path(source).read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", location=source, fix="check the path") from None
    except IsADirectoryError:
        raise InputError("is a directory", location=source, fix="name the JSON files inside it") from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", location=source, fix="check the path") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", location=source,
                         fix="findings are JSON in UTF-8") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _parse(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("nested too deeply to be a finding") from None


def _json_lines(text: str, source: str) -> list[Record]:
    records: list[Record] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document = _parse(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg} (column {exc.colno})", location=f"{source}:{number}",
                             fix="each line of a JSON lines file holds one JSON value") from None
        except ValueError as exc:
            raise InputError(f"invalid JSON: {exc}", location=f"{source}:{number}", fix="fix the JSON") from None
        records.extend(_unwrap(document, source, number))
    return records


def _unwrap(document: Any, source: str, line: int | None) -> list[Record]:
    """Split a document into its findings or events, each with its JSON path."""
    if isinstance(document, list):
        return [Record(source, line, f"$[{index}]", item) for index, item in enumerate(document)]
    if not isinstance(document, dict):
        location = f"{source}:{line}" if line is not None else source
        raise InputError(f"expected {_EXPECTED}; got a JSON {json_type(document)}", location=location)
    listed = _findings_key(document)
    if listed is not None:
        return [Record(source, line, f"$.{listed}[{index}]", item) for index, item in enumerate(document[listed])]
    return [Record(source, line, "$", document)]


def _findings_key(document: dict[str, Any]) -> str | None:
    """``findings`` (REST) or ``Findings`` (boto3) when the document is a GetFindings response."""
    for key in ("findings", "Findings"):
        if isinstance(document.get(key), list) and set(document) - {key} <= _RESPONSE_EXTRAS:
            return key
    return None
