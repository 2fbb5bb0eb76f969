"""EventBridge pattern syntax: lists or content filters at every leaf, nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.scenario.event_patterns import pattern_problems

VALID: list[dict[str, Any]] = [
    {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"],
     "detail": {"type": [{"prefix": "CryptoCurrency:EC2/"}]}},
    {"detail": {"severity": [{"numeric": [">=", 7, "<", 9]}], "resource": {"resourceType": ["Instance", None]}}},
    {"detail": {"type": [{"anything-but": {"prefix": "Recon:"}}], "archived": [False]}},
    {"detail": {"type": [{"anything-but": ["a", "b"]}, {"suffix": {"equals-ignore-case": "!DNS"}}]}},
    {"detail": {"service": {"archived": [{"exists": False}]}, "ip": [{"cidr": "10.0.0.0/8"}]}},
    {"detail": {"type": [{"wildcard": "*:EC2/*"}, {"equals-ignore-case": "x"}]}},
    {"$or": [{"source": ["aws.guardduty"]}, {"source": ["gdsim.guardduty"]}]},
    {"detail": {"severity": [{"numeric": ["=", 5]}]}, "account": ["123456789012"]},
]


@pytest.mark.parametrize("pattern", VALID)
def test_valid_patterns_have_no_problems(pattern: dict[str, Any]) -> None:
    assert pattern_problems(pattern) == []


@pytest.mark.parametrize(("pattern", "path", "message"), [
    ({}, (), "an event pattern is a non-empty mapping"),
    (["aws.guardduty"], (), "an event pattern is a non-empty mapping"),
    ({"source": "aws.guardduty"}, ("source",), "'aws.guardduty' is not in a list"),
    ({"source": []}, ("source",), "an empty list matches nothing"),
    ({"detail": {}}, ("detail",), "an empty mapping matches nothing"),
    ({"detail": {"type": [{"prefx": "x"}]}}, ("detail", "type", 0, "prefx"), "unknown content filter 'prefx'"),
    ({"detail": {"type": [{"prefix": 5}]}}, ("detail", "type", 0, "prefix"), "prefix takes a string"),
    ({"detail": {"type": [{"prefix": "a", "suffix": "b"}]}}, ("detail", "type", 0), "not a value to match"),
    ({"detail": {"type": [["nested"]]}}, ("detail", "type", 0), "not a value to match"),
    ({"x": [{"exists": "yes"}]}, ("x", 0, "exists"), "exists takes true or false"),
    ({"x": [{"cidr": "10.0.0.0/40"}]}, ("x", 0, "cidr"), "'10.0.0.0/40' is not a CIDR block"),
    ({"x": [{"numeric": [">", 5, ">", 1]}]}, ("x", 0, "numeric"), "not a numeric range"),
    ({"x": [{"numeric": [">", "5"]}]}, ("x", 0, "numeric"), "'>' '5' is not a comparison"),
    ({"x": [{"numeric": 5}]}, ("x", 0, "numeric"), "numeric takes a comparison"),
    ({"x": [{"anything-but": ["a", 1]}]}, ("x", 0, "anything-but"), "anything-but mixes strings and numbers"),
    ({"x": [{"anything-but": {"exists": True}}]}, ("x", 0, "anything-but"),
     "anything-but takes a value, a list of values or one filter"),
    ({"$or": [{"a": ["b"]}]}, ("$or",), "$or takes a list of at least two non-empty mappings"),
    ({"$or": [{"a": ["b"]}, {"c": "d"}]}, ("$or", 1, "c"), "'d' is not in a list"),
])
def test_invalid_patterns_say_where_and_why(pattern: Any, path: tuple[Any, ...], message: str) -> None:
    problems = pattern_problems(pattern)
    assert [(where, said) for where, said, _fix in problems] == [(path, message)]
    assert all(fix for _where, _said, fix in problems)


def test_every_problem_is_reported() -> None:
    problems = pattern_problems({"source": "a", "detail": {"type": [{"prefx": "x"}, {"prefix": 1}]}})
    assert [where for where, _said, _fix in problems] == [
        ("source",), ("detail", "type", 0, "prefx"), ("detail", "type", 1, "prefix")]
