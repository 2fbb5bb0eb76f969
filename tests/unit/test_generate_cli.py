"""`simulate generate`: JSON lines, reproducible per seed, one clear line (exit 2) for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulator import catalog
from simulator.cli import main
from simulator.findings.clock import parse_iso
from simulator.fuzz import ATTACKS
from simulator.validate import check_shape, validate_event, validate_finding

BTC = "CryptoCurrency:EC2/BitcoinTool.B!DNS"


def generate(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    assert main(["generate", *args]) == 0
    out = capsys.readouterr().out
    assert out.endswith("\n")
    return [json.loads(line) for line in out.splitlines()]


def test_count_is_per_type_and_every_line_is_a_valid_finding(capsys: pytest.CaptureFixture[str]) -> None:
    findings = generate(capsys, "--type", BTC, "--type", "Recon:EC2/Portscan", "--count", "3", "--seed", "7")
    assert [finding["type"] for finding in findings] == [BTC] * 3 + ["Recon:EC2/Portscan"] * 3
    assert all(validate_finding(finding) == [] for finding in findings)
    assert len({finding["id"] for finding in findings}) == 6


def test_a_seed_reproduces_the_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    main(["generate", "--purpose", "Trojan", "--count", "2", "--seed", "11", "--envelope"])
    first = capsys.readouterr().out
    main(["generate", "--purpose", "Trojan", "--count", "2", "--seed", "11", "--envelope"])
    assert capsys.readouterr().out == first
    main(["generate", "--purpose", "Trojan", "--count", "2", "--seed", "12", "--envelope"])
    assert capsys.readouterr().out != first


def test_a_type_alone_matches_its_findings_in_a_larger_run(capsys: pytest.CaptureFixture[str]) -> None:
    everything = generate(capsys, "--all", "--seed", "3")
    assert sorted(finding["type"] for finding in everything) == sorted(catalog.active_types())
    alone = generate(capsys, "--type", BTC, "--seed", "3")
    assert alone == [finding for finding in everything if finding["type"] == BTC]


def test_purpose_selects_its_types(capsys: pytest.CaptureFixture[str]) -> None:
    findings = generate(capsys, "--purpose", "recon", "--seed", "1")
    assert {finding["type"] for finding in findings} == {t.name for t in catalog.types_for_purpose("Recon")}


def test_envelopes_are_valid_events_published_after_the_update(capsys: pytest.CaptureFixture[str]) -> None:
    events = generate(capsys, "--purpose", "Backdoor", "--seed", "5", "--envelope", "--account", "210987654321",
                      "--region", "eu-west-1")
    for event in events:
        assert validate_event(event) == []
        assert (event["account"], event["region"]) == ("210987654321", "eu-west-1")
        assert event["detail"]["accountId"] == "210987654321"
        assert parse_iso(event["time"]) >= parse_iso(event["detail"]["updatedAt"])


def test_now_dates_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    findings = generate(capsys, "--type", BTC, "--count", "20", "--seed", "1", "--now", "2024-03-01T00:00:00Z")
    now = parse_iso("2024-03-01T00:00:00Z")
    assert all(now - 86_400_000 < parse_iso(finding["updatedAt"]) <= now for finding in findings)


def test_without_a_seed_the_run_says_how_to_reproduce_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--type", BTC]) == 0
    captured = capsys.readouterr()
    hint = captured.err.split("reproduce with ", 1)[1].split(")")[0].split()
    assert hint[0] == "--seed" and hint[2] == "--now"
    assert main(["generate", "--type", BTC, *hint]) == 0
    assert capsys.readouterr().out == captured.out


def test_valid_fuzz_lines_validate(capsys: pytest.CaptureFixture[str]) -> None:
    findings = generate(capsys, "--purpose", "Policy", "--count", "3", "--seed", "2", "--fuzz", "valid")
    assert findings and all(validate_finding(finding) == [] for finding in findings)


def test_hostile_fuzz_writes_what_each_line_attacks(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    labels_path = tmp_path / "attacks.jsonl"
    out_path = tmp_path / "hostile.jsonl"
    assert main(["generate", "--purpose", "Impact", "--count", "4", "--seed", "9", "--fuzz", "hostile",
                 "--attacks", str(labels_path), "-o", str(out_path)]) == 0
    assert capsys.readouterr().out == ""
    lines = out_path.read_text(encoding="utf-8").splitlines()
    labels = [json.loads(line) for line in labels_path.read_text(encoding="utf-8").splitlines()]
    assert [label["line"] for label in labels] == list(range(1, len(lines) + 1))
    assert len({label["attack"] for label in labels}) > 5
    for line, label in zip(lines, labels, strict=True):
        assert label["attack"] in ATTACKS
        finding = json.loads(line)
        assert bool(check_shape(finding)) == label["breaks_schema"], label


def test_hostile_envelopes_wrap_even_broken_findings(capsys: pytest.CaptureFixture[str]) -> None:
    events = generate(capsys, "--type", "Recon:EC2/Portscan", "--count", "30", "--seed", "4", "--fuzz", "hostile",
                      "--envelope")
    assert all(event["detail-type"] == "GuardDuty Finding" and "detail" in event for event in events)
    # even a finding whose updatedAt was removed or mangled gets a time from the run (2024-2025), not 1970
    assert all(event["time"][:3] in ("200", "202") for event in events), {event["time"] for event in events}


def test_output_file_is_written_and_stdout_stays_empty(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    assert main(["generate", "--type", BTC, "--count", "5", "--seed", "1", "-o", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert len(target.read_text(encoding="utf-8").splitlines()) == 5


@pytest.mark.parametrize(("args", "message"), [
    (["--type", "CryptoCurrency:EC2/BitcoinTool.B!DNSX"], "did you mean 'CryptoCurrency:EC2/BitcoinTool.B!DNS'"),
    (["--type", "Totally:Made/Up"], "unknown finding type"),
    (["--type", "UnauthorizedAccess:EC2/TorIPCaller"], "is retired"),
    (["--purpose", "Reconn"], "did you mean 'Recon'"),
    (["--all", "--count", "0"], "--count: 0 is less than 1"),
    (["--all", "--count", "many"], "--count: 'many' is not a whole number"),
    (["--all", "--seed", "x"], "--seed"),
    (["--all", "--account", "1234"], "--account"),
    (["--all", "--region", "us-east"], "--region"),
    (["--all", "--now", "tomorrow"], "--now"),
    (["--all", "--attacks", "a.jsonl"], "--fuzz hostile"),
    ([], "nothing to generate"),
    (["--all", "--fuzz", "evil"], "invalid choice"),
    (["--all", "--type", BTC], "not allowed with"),
])
def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert main(["generate", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and message in captured.err
    assert "Traceback" not in captured.err


def test_an_unwritable_output_is_refused_before_anything_is_generated(capsys: pytest.CaptureFixture[str],
                                                                      tmp_path: Path) -> None:
    for target in (tmp_path / "missing" / "out.jsonl", tmp_path):
        assert main(["generate", "--all", "--seed", "1", "-o", str(target)]) == 2
        err = capsys.readouterr().err
        assert str(target) in err and "cannot write" in err and len(err.strip().splitlines()) == 1


def test_a_closed_pipe_ends_the_run_quietly() -> None:
    process = subprocess.Popen([sys.executable, "-m", "simulator", "generate", "--all", "--count", "200", "--seed",
                                "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 0
    assert json.loads(first)["schemaVersion"] == "2.0"
    assert b"Traceback" not in stderr and b"Error" not in stderr
