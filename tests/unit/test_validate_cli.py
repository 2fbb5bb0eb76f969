"""`simulate validate`: one line per problem, a summary, and exit 0 / 1 / 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from simulator.cli import main

REAL = Path(__file__).resolve().parents[1] / "data" / "real_findings"
CLEAN = REAL / "Backdoor_EC2__Spambot.json"
RETIRED = REAL / "UnauthorizedAccess_EC2__TorIPCaller.json"
PANTHER = REAL / "AttackSequence_S3__CompromisedData.json"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    code = main(["validate", *argv])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_all_valid_exits_0_with_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([str(CLEAN), str(REAL / "Impact_S3__MaliciousIPCaller.json")], capsys)
    assert (code, out, err) == (0, ["2 findings checked, 0 invalid"], "")


def test_problems_are_file_path_message_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([str(CLEAN), str(PANTHER)], capsys)
    assert code == 1
    assert out[0] == (f'{PANTHER}: $.createdAt: "2025-02-25 20:40:06.765" is not an ISO-8601 date-time with a '
                      "zone (GuardDuty writes 2024-05-01T12:00:00.000Z) [timestamp-format]")
    assert len(out) == 5
    assert out[-1] == "2 findings checked, 1 invalid"


def test_json_lines_name_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = json.loads(CLEAN.read_text())
    bad = json.loads(CLEAN.read_text())
    bad["detail"]["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]["ipAddressV4"] = "1.2.3"
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(event) for event in (good, good, bad)) + "\n")
    code, out, _ = run([str(path)], capsys)
    assert code == 1
    assert out == [
        f'{path}:3: $.detail.service.action.networkConnectionAction.remoteIpDetails.ipAddressV4: "1.2.3" is not '
        "an IPv4 address [ip-address]",
        "3 findings checked, 1 invalid",
    ]


def test_retired_types_fail_unless_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([str(RETIRED)], capsys)
    assert code == 1 and out[-1] == "1 finding checked, 1 invalid"
    code, out, _ = run(["--allow-retired", str(RETIRED)], capsys)
    assert code == 0
    assert out[0].startswith(f"{RETIRED}: $.detail.type: warning: finding type")
    assert out[-1] == "1 finding checked, 0 invalid, 1 warning"
    code, out, _ = run(["--allow-retired", "--quiet", str(RETIRED)], capsys)
    assert (code, out) == (0, [])


def test_quiet_prints_only_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--quiet", str(CLEAN), str(PANTHER)], capsys)
    assert code == 1
    assert len(out) == 4 and all("[timestamp-format]" in line for line in out)


def test_shape_only(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--shape-only", str(RETIRED)], capsys)
    assert (code, out) == (0, ["1 finding checked, 0 invalid"])


def test_custom_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    event = json.loads(CLEAN.read_text())
    event["source"] = "gdsim.guardduty"
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(event))
    assert run([str(path)], capsys)[0] == 1
    assert run(["--source", "gdsim.guardduty", str(path)], capsys)[0] == 0


def test_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--format", "json", str(CLEAN), str(PANTHER)], capsys)
    assert code == 1
    report: dict[str, Any] = json.loads("\n".join(out))
    assert (report["checked"], report["invalid"], report["warnings"]) == (2, 1, 0)
    first, second = report["results"]
    assert first == {"file": str(CLEAN), "line": None, "root": "$", "kind": "event",
                     "id": "cab59ed2edb1da9fdb9bf60566c819cc", "type": "Backdoor:EC2/Spambot", "valid": True,
                     "issues": []}
    assert second["valid"] is False
    assert {"path": "$.updatedAt", "rule": "timestamp-format", "level": "error"}.items() <= second["issues"][-1].items()
    code, out, _ = run(["--format", "json", "--quiet", str(CLEAN), str(PANTHER)], capsys)
    assert [result["file"] for result in json.loads("\n".join(out))["results"]] == [str(PANTHER)]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "invalid JSON: Expecting property name enclosed in double quotes (column 2)"),
        ("", "the file is empty"),
    ],
)
def test_malformed_input_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               content: str, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, out, err = run([str(CLEAN), str(path)], capsys)
    assert code == 2
    assert out == []  # nothing is judged before every file has been read
    assert err.startswith(f"simulate: error: {path}")
    assert expected in err
    assert len(err.strip().splitlines()) == 1


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run([str(tmp_path / "nope.json")], capsys)
    assert code == 2 and "no such file" in err and "Traceback" not in err


def test_stdin_through_the_console_entry_point() -> None:
    completed = subprocess.run([sys.executable, "-m", "simulator", "validate", "-"], input=CLEAN.read_bytes(),
                               capture_output=True, check=False, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.decode().strip() == "1 finding checked, 0 invalid"


def test_a_boto3_get_findings_response_is_named_as_such(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    boto3_form = {"AccountId": "123456789012", "Arn": "arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/f",
                  "CreatedAt": "2024-05-01T12:00:00.000Z", "Id": "f", "Region": "us-east-1", "SchemaVersion": "2.0",
                  "Severity": 5, "Type": "Recon:IAMUser/TorIPCaller", "UpdatedAt": "2024-05-01T12:00:00.000Z",
                  "Resource": {"ResourceType": "AccessKey"}}
    path = tmp_path / "get-findings.json"
    path.write_text(json.dumps({"Findings": [boto3_form], "ResponseMetadata": {"HTTPStatusCode": 200}}))
    code, out, _ = run([str(path)], capsys)
    assert code == 1
    assert out[0].startswith(f"{path}: $.Findings[0]: this is boto3's Python form (PascalCase keys such as "
                             "'AccountId'), not the wire form GuardDuty sends (camelCase 'accountId')")
    assert out[0].endswith("[boto3-form]")
    assert out[1:] == ["1 finding checked, 1 invalid"]
