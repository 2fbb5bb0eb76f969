"""The YAML loader remembers where every key and item is, so errors can name the line."""

from __future__ import annotations

import pytest

from simulator.scenario.loader import YamlSyntaxError, load_located

DOCUMENT = """\
id: demo
steps:
  - id: notify
    within: 5m
  - {id: stop, within: 1h}
problem: >-
  folded
  text
tags: {Service: web}
"""


def test_records_the_line_of_every_key_and_item() -> None:
    located = load_located(DOCUMENT)
    assert located.data["steps"][1] == {"id": "stop", "within": "1h"}
    assert located.lines[("id",)] == 1
    assert located.lines[("steps",)] == 2
    assert located.lines[("steps", 0)] == 3
    assert located.lines[("steps", 0, "within")] == 4
    assert located.lines[("steps", 1, "within")] == 5
    assert located.lines[("problem",)] == 6
    assert located.lines[("tags", "Service")] == 9


def test_a_missing_path_falls_back_to_its_nearest_ancestor() -> None:
    located = load_located(DOCUMENT)
    assert located.line_of(("steps", 1, "expect", "kind")) == 5
    assert located.line_of(("nowhere",)) == 1


def test_duplicate_keys_are_reported_with_both_lines() -> None:
    located = load_located("id: a\ntitle: x\nid: b\n")
    assert located.data["id"] == "b"
    assert located.duplicate_keys == [(("id",), 3, 1)]


def test_keys_resolve_as_yaml_does() -> None:
    located = load_located("on: 1\n2: two\n")
    assert located.lines[(True,)] == 1
    assert located.lines[(2,)] == 2


def test_syntax_errors_carry_the_line() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        load_located("id: a\nsteps: [1, 2\nnext: 3\n")
    assert caught.value.line == 3


def test_an_empty_document_is_none() -> None:
    assert load_located("").data is None
