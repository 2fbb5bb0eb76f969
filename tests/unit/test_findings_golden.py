"""Golden findings: `simulate generate --type T --seed 7` keeps producing exactly the stored bytes.

A change here is a change every user's seeded runs see. If it is intended (a new member, a corrected
value table, a new Faker release), regenerate with `GDSIM_UPDATE_GOLDEN=1 pytest tests/unit/test_findings_golden.py`
and review the diff of fixtures/findings/golden/.
"""

from __future__ import annotations

import json
import os

import pytest

from simulator.cli import main
from simulator.paths import FINDINGS_FIXTURES_DIR
from simulator.validate import validate_document

GOLDEN_DIR = FINDINGS_FIXTURES_DIR / "golden"
SEED = "7"
GOLDEN_TYPES = (
    "CryptoCurrency:EC2/BitcoinTool.B!DNS",
    "UnauthorizedAccess:EC2/SSHBruteForce",
    "Recon:IAMUser/TorIPCaller",
    "Exfiltration:S3/MaliciousIPCaller",
    "Persistence:Kubernetes/SuccessfulAnonymousAccess",
    "CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin",
    "Execution:Runtime/ReverseShell",
    "Execution:EC2/MaliciousFile",
    "AttackSequence:IAM/CompromisedCredentials",
    "Persistence:IAM/AccountManipulation",
)


def file_name(type_name: str, envelope: bool) -> str:
    stem = type_name.replace(":", "_").replace("/", "__").replace("!", "-bang-")
    return f"{stem}.event.json" if envelope else f"{stem}.json"


CASES = [(name, False) for name in GOLDEN_TYPES] + [(GOLDEN_TYPES[0], True)]


@pytest.mark.parametrize(("type_name", "envelope"), CASES)
def test_generated_bytes_match_the_golden_file(capsys: pytest.CaptureFixture[str], type_name: str,
                                               envelope: bool) -> None:
    args = ["generate", "--type", type_name, "--seed", SEED] + (["--envelope"] if envelope else [])
    assert main(args) == 0
    line = capsys.readouterr().out.rstrip("\n")
    document = json.loads(line)
    pretty = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    path = GOLDEN_DIR / file_name(type_name, envelope)
    if os.environ.get("GDSIM_UPDATE_GOLDEN"):
        GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(pretty, encoding="utf-8")
    stored = path.read_text(encoding="utf-8")
    assert pretty == stored
    # The stored file, written compactly again, is the command's exact line (key order, number forms).
    assert json.dumps(json.loads(stored), separators=(",", ":"), ensure_ascii=False) == line
    assert validate_document(document) == []


def test_every_golden_file_is_covered() -> None:
    expected = {file_name(name, envelope) for name, envelope in CASES}
    assert {path.name for path in GOLDEN_DIR.glob("*.json")} == expected
