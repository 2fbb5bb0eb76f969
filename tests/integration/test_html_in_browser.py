"""The scorecard of real runs renders in a real headless Chromium: the DOM it builds holds every scenario, step and
timeline, and its screenshot is a real picture (kept in reports/artifacts/ for people to look at)."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.api import run
from simulator.paths import REPORTS_DIR
from simulator.reports import RunReport
from simulator.reports.writer import write_reports
from simulator.targets.moto import MotoForkServer

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
BYSTANDER = f"{ROOT / 'tests' / 'fixtures' / 'responders' / 'touches_bystander.py'}:handler"
ARTIFACTS = REPORTS_DIR / "artifacts"
WINDOW = (1280, 2000)
DECODED_ROWS = 900  # the header, the first scenario's timeline and steps: enough to judge, quick to decode

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def scorecard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """report.html of a run with the reference responder (passes) and one that touches a bystander (fails)."""
    with MotoForkServer() as emulator:
        passing = run("crypto", emulator=emulator, seed=11)
        failing = run("crypto", responder=BYSTANDER, emulator=emulator, seed=11)
    report = RunReport(run_id="gdsim-browser-check", target="moto", time_scale=passing.time_scale, seed=11,
                       scenarios=[passing, failing])
    folder = tmp_path_factory.mktemp("scorecard")
    yield write_reports(report, folder)["html"]


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def png_rows(data: bytes, limit: int) -> tuple[int, int, list[bytes]]:
    """(width, height, first ``limit`` rows of RGB(A) bytes) of an 8-bit RGB or RGBA PNG, unfiltered."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, idat, header = 8, b"", b""
    while offset < len(data):
        (length,), kind = struct.unpack(">I", data[offset:offset + 4]), data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), f"unexpected PNG format (depth {depth}, colour type {colour})"
    channels = 4 if colour == 6 else 3
    stride = width * channels
    raw = zlib.decompress(idat)
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(min(height, limit)):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, [bytes(channels_to_rgb(row, channels)) for row in rows]


def channels_to_rgb(row: bytes, channels: int) -> bytes:
    if channels == 3:
        return row
    return bytes(b for i, b in enumerate(row) if i % 4 != 3)


def close_to(pixel: tuple[int, int, int], target: str, tolerance: int = 24) -> bool:
    wanted = tuple(int(target[i:i + 2], 16) for i in (1, 3, 5))
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, wanted, strict=True))


@needs_chromium
def test_the_browser_builds_every_scenario_step_and_timeline(scorecard: Path, tmp_path: Path) -> None:
    done = chromium("--dump-dom", scorecard.as_uri(), profile=tmp_path / "profile")
    dom = done.stdout
    assert done.returncode == 0 and "</html>" in dom, done.stderr[-2000:]
    assert dom.count('<section class="scenario') == 2
    assert 'data-scenario="crypto" data-verdict="pass"' in dom.replace("\n", " ")
    assert 'data-verdict="fail"' in dom
    for step in ("notify", "quarantine", "revoke-credentials", "snapshot", "stop"):
        assert dom.count(f'<tr class="step met" data-step="{step}" data-verdict="met">') == 2, step
        assert dom.count(f'<g class="step" data-step="{step}"') == 2, step
    assert dom.count('<svg class="timeline"') == 2
    assert 'data-invariant="blast_radius"' in dom and "invariant broken: blast_radius" in dom
    assert "simulate --scenario crypto" in dom


@needs_chromium
def test_the_screenshot_is_a_real_picture_kept_as_an_artifact(scorecard: Path, tmp_path: Path) -> None:
    shot = tmp_path / "scorecard.png"
    done = chromium(f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}", scorecard.as_uri(),
                    profile=tmp_path / "profile")
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    data = shot.read_bytes()
    assert len(data) > 50_000
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / "scorecard.png")
    shutil.copyfile(scorecard, ARTIFACTS / "scorecard.html")

    width, height, rows = png_rows(data, DECODED_ROWS)
    assert (width, height) == WINDOW
    pixels = {row[i:i + 3] for row in rows for i in range(0, len(row), 3)}
    assert len(pixels) > 200, f"only {len(pixels)} colours: the page looks blank"
    colours = [tuple(p) for p in pixels]
    assert any(close_to(p, "#1a7f37") for p in colours), "no 'met'/'pass' green was drawn"
    assert any(close_to(p, "#cf222e") for p in colours), "no 'fail' red was drawn"
    assert any(close_to(p, "#dafbe1", 6) for p in colours), "no within-SLA band was drawn on a timeline"
