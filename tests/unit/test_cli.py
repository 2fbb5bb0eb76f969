"""Bad flags get one clear line on stderr and exit 2, before any sandbox is started."""

from __future__ import annotations

import pytest

from simulator.cli import main


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--target", "mars", "--scenario", "crypto"], "--target 'mars' is not one of"),
        (["--scenario", "crypto", "--time-scale", "0"], "--time-scale 0: must be a positive number"),
        (["--scenario", "crypto", "-j", "0"], "-j 0: must be 1 or more"),
        (["--scenario", "crypto", "--responder", "nocolon"], "write MODULE:FUNCTION"),
        (["--scenario", "crypto", "--responder", "missing.py:handler"], "file missing.py does not exist"),
        (["--scenario", "crypto", "--responder", "no.such.module:handler"], "no module 'no.such.module'"),
        (["--scenario", "crypto", "--responder", "responders/crypto.py:nope"], "defines no 'nope' at top level"),
        (["run"], "say which scenario to run"),
        (["--scenario", "crypto", "--time-scale", "fast"], "invalid float value: 'fast'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_flags_exit_2_with_one_line(argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert "gdsim" in capsys.readouterr().out


def test_list_types_and_purposes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "types"]) == 0
    out = capsys.readouterr().out
    assert "CryptoCurrency:EC2/BitcoinTool.B!DNS" in out
    assert main(["list", "purposes"]) == 0
    assert "UnauthorizedAccess" in capsys.readouterr().out
