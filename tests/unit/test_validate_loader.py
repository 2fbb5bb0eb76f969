"""Reading findings and events from files: every record located, every unreadable file one clear error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from simulator.errors import InputError
from simulator.validate import load_records, parse_records

REAL = Path(__file__).resolve().parents[1] / "data" / "real_findings"


def finding() -> dict[str, Any]:
    return json.loads((REAL / "Impact_EC2__WinRMBruteForce.json").read_text())


def event() -> dict[str, Any]:
    return json.loads((REAL / "Trojan_EC2__DropPoint.json").read_text())


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_one_finding_and_one_event(tmp_path: Path) -> None:
    record, = load_records(write(tmp_path, "f.json", json.dumps(finding(), indent=2)))
    assert (record.kind, record.root, record.line) == ("finding", "$", None)
    assert record.location == str(tmp_path / "f.json")
    record, = load_records(write(tmp_path, "e.json", json.dumps(event())))
    assert record.kind == "event"


def test_a_list_mixing_findings_and_events(tmp_path: Path) -> None:
    records = load_records(write(tmp_path, "l.json", json.dumps([finding(), event(), 7])))
    assert [(r.kind, r.root) for r in records] == [("finding", "$[0]"), ("event", "$[1]"), ("finding", "$[2]")]


@pytest.mark.parametrize("key", ["findings", "Findings"])
def test_get_findings_responses(tmp_path: Path, key: str) -> None:
    response = {key: [finding(), finding()], "ResponseMetadata": {"HTTPStatusCode": 200}}
    records = load_records(write(tmp_path, "r.json", json.dumps(response)))
    assert [r.root for r in records] == [f"$.{key}[0]", f"$.{key}[1]"]
    assert load_records(write(tmp_path, "empty.json", json.dumps({key: []}))) == []


def test_json_lines_by_suffix_or_by_content(tmp_path: Path) -> None:
    lines = "\n".join([json.dumps(finding()), "", json.dumps(event()), json.dumps([finding(), finding()])])
    for name in ("f.jsonl", "f.ndjson", "f.json", "f.txt"):
        records = load_records(write(tmp_path, name, lines + "\n"))
        assert [(r.line, r.root) for r in records] == [(1, "$"), (3, "$"), (4, "$[0]"), (4, "$[1]")]
        assert records[1].location == f"{tmp_path / name}:3"


def test_a_single_line_jsonl_file(tmp_path: Path) -> None:
    record, = load_records(write(tmp_path, "one.jsonl", json.dumps(finding())))
    assert record.line == 1


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.json", "", "empty.json: the file is empty"),
        ("blank.json", "  \n\n", "blank.json: the file is empty"),
        ("broken.json", '{\n  "id": "abc",\n  "type": \n}', "broken.json:4: invalid JSON: Expecting value (column 1)"),
        ("lines.jsonl", '{"id": "a"}\n{"id": \n', "lines.jsonl:2: invalid JSON: Expecting value"),
        ("mixed.json", '{"id": "a"}\n{oops}\n', "mixed.json:2: invalid JSON: Expecting property name"),
        ("nan.json", '{"severity": NaN}', "nan.json: invalid JSON: NaN is not a JSON value"),
        ("scalar.json", '"just a string"', "scalar.json: expected a finding, an EventBridge event"),
        ("number.jsonl", '{"id": "a"}\n42\n', "number.jsonl:2: expected a finding"),
        ("deep.json", "[" * 100_000 + "]" * 100_000, "deep.json: invalid JSON: nested too deeply"),
        ("latin1.json", '{"title": "caf\xe9"}'.encode("latin-1"), "latin1.json: not UTF-8 text"),
    ],
)
def test_unreadable_input_is_one_clear_line(tmp_path: Path, name: str, content: str | bytes, expected: str) -> None:
    path = write(tmp_path, name, content)
    with pytest.raises(InputError) as caught:
        load_records(path)
    message = str(caught.value)
    assert f"{tmp_path}/{expected}" in message
    assert "\n" not in message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_records(tmp_path / "absent.json")
    with pytest.raises(InputError, match="is a directory"):
        load_records(tmp_path)


def test_utf8_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.json", b"\xef\xbb\xbf" + json.dumps(finding()).encode())
    assert len(load_records(path)) == 1


def test_parse_records_from_memory() -> None:
    record, = parse_records(json.dumps(event()), "stdin")
    assert record.kind == "event" and record.source == "stdin"
    with pytest.raises(InputError, match="stdin:1: invalid JSON"):
        parse_records("{", "stdin")
