"""Generated findings are GuardDuty's wire form: botocore's own parser reads every member back, and the
project's validator finds nothing wrong."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore import parsers
from botocore.session import get_session

from simulator.catalog import active_types
from simulator.findings import FindingFactory, aggregate_update, generate_finding, wrap_in_envelope
from simulator.validate import validate_event, validate_finding

ACTIVE = sorted(active_types())
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
MODEL = get_session().get_service_model("guardduty")
GET_FINDINGS = MODEL.operation_model("GetFindings")


def parse_get_findings(findings: list[dict]) -> list[dict]:
    """What boto3 returns for a GetFindings response whose body holds ``findings``."""
    body = json.dumps({"findings": findings}).encode()
    response = parsers.create_parser("rest-json").parse(
        {"status_code": 200, "headers": {"content-type": "application/json"}, "body": body},
        GET_FINDINGS.output_shape)
    assert "Error" not in response, response.get("Error")
    return response["Findings"]


def unknown_members(wire: Any, shape: Any, path: str = "$") -> list[str]:
    """Wire keys the model does not declare (additionalInfo's flattened members excepted, as on the wire)."""
    found: list[str] = []
    if shape.type_name == "structure" and isinstance(wire, dict):
        by_wire = {member.serialization.get("name", name): member for name, member in shape.members.items()}
        for key, value in wire.items():
            if key not in by_wire:
                if shape.name != "ServiceAdditionalInfo":
                    found.append(f"{path}.{key}")
                continue
            if value is not None:
                found.extend(unknown_members(value, by_wire[key], f"{path}.{key}"))
    elif shape.type_name == "list" and isinstance(wire, list):
        for index, item in enumerate(wire):
            found.extend(unknown_members(item, shape.member, f"{path}[{index}]"))
    elif shape.type_name == "map" and isinstance(wire, dict):
        for key, item in wire.items():
            found.extend(unknown_members(item, shape.value, f"{path}.{key}"))
    return found


def assert_round_trip(wire: Any, parsed: Any, shape: Any, path: str = "$") -> None:
    """Every wire member arrives in botocore's output under its member name, with its value."""
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            key = member.serialization.get("name", name)
            if wire.get(key) is None:
                assert name not in parsed, f"{path}.{key}"
                continue
            assert name in parsed, f"botocore dropped {path}.{key}"
            assert_round_trip(wire[key], parsed[name], member, f"{path}.{key}")
    elif shape.type_name == "list":
        assert len(wire) == len(parsed), path
        for index, (item, parsed_item) in enumerate(zip(wire, parsed, strict=True)):
            assert_round_trip(item, parsed_item, shape.member, f"{path}[{index}]")
    elif shape.type_name == "map":
        assert set(wire) == set(parsed), path
        for key in wire:
            assert_round_trip(wire[key], parsed[key], shape.value, f"{path}.{key}")
    elif shape.type_name == "timestamp":
        assert abs(parsed.timestamp() - float(wire)) < 0.001, path
    else:
        assert parsed == wire, f"{path}: {parsed!r} != {wire!r}"


@pytest.mark.parametrize("type_name", ACTIVE)
def test_botocore_parses_every_type_and_keeps_every_member(type_name: str) -> None:
    rng = random.Random(f"wire:{type_name}")
    findings = [generate_finding(type_name, rng=rng, now=NOW) for _ in range(2)]
    parsed = parse_get_findings(findings)
    shape = MODEL.shape_for("Finding")
    for wire, boto in zip(findings, parsed, strict=True):
        assert unknown_members(wire, shape) == []
        assert_round_trip(wire, boto, shape)
        assert boto["Service"]["AdditionalInfo"]["Type"] == "default"
        assert json.loads(boto["Service"]["AdditionalInfo"]["Value"])["sample"] is False


@pytest.mark.parametrize("type_name", ACTIVE)
def test_validator_finds_nothing_in_findings_events_and_updates(type_name: str) -> None:
    rng = random.Random(f"validate:{type_name}")
    finding = generate_finding(type_name, rng=rng, now=NOW, account_id="210987654321", region="eu-west-1")
    assert validate_finding(finding) == []
    assert validate_event(wrap_in_envelope(finding, rng=rng)) == []
    assert validate_finding(aggregate_update(finding, rng=rng, occurrences=2)) == []


def test_the_unknown_member_walk_is_not_vacuous() -> None:
    finding = generate_finding("Backdoor:EC2/C&CActivity.B", rng=random.Random(3), now=NOW)
    finding["resource"]["instanceDetails"]["hostname"] = "x"
    finding["service"]["additionalInfo"]["anything"] = 1  # open on the wire, as GuardDuty sends it
    assert unknown_members(finding, MODEL.shape_for("Finding")) == ["$.resource.instanceDetails.hostname"]


def test_fast_line_and_dict_are_the_same_finding() -> None:
    factory = FindingFactory(pool_seed=5)
    line = factory.finding_json("Trojan:EC2/DGADomainRequest.C!DNS", rng=random.Random(9), now=NOW)
    again = factory.finding("Trojan:EC2/DGADomainRequest.C!DNS", rng=random.Random(9), now=NOW)
    assert json.loads(line) == again
    assert line == json.dumps(again, separators=(",", ":"), ensure_ascii=False)
