"""What a running game day tracks and shows: pages read from the run's API journal, the scoreboard (in place on a
terminal, plain lines elsewhere), the state file `simulate ack` reads, and finding the finding it names."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from simulator import cli
from simulator.errors import UsageError
from simulator.gameday import build_schedule, load_plan
from simulator.gameday.ack import find_finding
from simulator.gameday.clock import GameClock
from simulator.gameday.live import Tracker
from simulator.gameday.scoreboard import Scoreboard, render_rows
from simulator.gameday.state import RUNNING_DIR, STATE_FILE, StateFile, read_running_state, running_gamedays
from simulator.gameday.watch import Watcher, acknowledgement_fields
from simulator.gateway.journal import Journal, JournalEntry
from simulator.targets.base import Credentials, Sandbox

PAGER = "arn:aws:sns:us-east-1:123456789012:run-pager"
FINDING_ID = "5d2e8f0a9b1c4d3e2f1a0b9c8d7e6f50"
PLAN = """\
name: drill
seed: 3
time_scale: 600
players:
  - {name: sam, acknowledge_at_level: 1, after: 15m}
  - {name: you, human: true}
entries:
  - {scenario: escalation-ladder, at: 0s, oncall: sam}
  - {scenario: crypto, at: 1m, oncall: you}
"""


@pytest.fixture
def tracker(tmp_path: Path) -> Tracker:
    path = tmp_path / "drill.yaml"
    path.write_text(textwrap.dedent(PLAN))
    schedule = build_schedule(load_plan(path), 3)
    clock = GameClock(len(schedule), 600, threading.Event())
    return Tracker(schedule, clock, 600)


def prepare(tracker: Tracker, key: str, finding_id: str, journal: Journal | None = None) -> None:
    sandbox = Sandbox(name="moto", endpoint_url="http://127.0.0.1:1", region="us-east-1", account_id="123456789012",
                      credentials=Credentials("AKIDHARNESS", "secret"))
    env = SimpleNamespace(run_id=f"run-{key.lower()}", escalation={"topic_arn": PAGER, "levels": []})
    finding_type = tracker.get(key).scenario.finding_types[0]
    tracker.prepared(key, run_id=env.run_id, sandbox=sandbox, env=env,
                     findings=[{"id": finding_id, "type": finding_type}],
                     journal=journal if journal is not None else Journal())
    tracker.clock.ready()


def publish(journal: Journal, *, topic: str = PAGER, level: int, finding_id: str = FINDING_ID,
            status: int = 200) -> None:
    seq = journal.last_seq + 1
    mono = __import__("time").monotonic()
    journal.append(JournalEntry(
        seq=seq, mono=mono, mono_start=mono - 0.01, wall=0.0, service="sns", operation="Publish",
        region="us-east-1", caller="stepfunctions", resource_ids=(topic,),
        params={"TopicArn": topic, "Message": json.dumps({"level": level, "finding_id": finding_id}),
                "MessageAttributes": {"level": {"DataType": "Number", "StringValue": str(level)}}},
        status=status, error_code=None if status < 400 else "Throttling", fault=None, mutating=True))


def test_pages_of_the_finding_are_read_from_the_runs_journal(tracker: Tracker) -> None:
    journal = Journal()
    key = next(live.key for live in tracker if live.scenario.id == "escalation-ladder")
    prepare(tracker, key, FINDING_ID, journal)
    tracker.injected(key)
    publish(journal, level=1)
    publish(journal, level=2, finding_id="another-finding")  # not this finding
    publish(journal, topic="arn:aws:sns:us-east-1:123456789012:other", level=3)  # not the escalation topic
    publish(journal, level=3, status=500)  # refused: nobody was paged
    watcher = Watcher(tracker)
    watcher.read_pages(tracker.get(key))
    publish(journal, level=2)
    watcher.read_pages(tracker.get(key))
    watcher.read_pages(tracker.get(key))  # nothing read twice
    live = tracker.get(key)
    assert live.levels_paged == [1, 2]
    assert [page.contact for page in live.pages] == ["ir-oncall-primary", "ir-lead"]
    assert all(page.seconds is not None and page.seconds >= 0 for page in live.pages)


def test_an_acknowledgement_record_is_read_as_the_ladder_reads_it() -> None:
    fields = acknowledgement_fields({"finding_id": {"S": FINDING_ID}, "level": {"N": "1"},
                                     "contact": {"S": "ir-oncall-primary"},
                                     "acknowledged_at": {"S": "2026-11-29T17:00:00.250000Z"}})
    assert fields["level"] == 1 and fields["contact"] == "ir-oncall-primary"
    assert fields["wall"] == pytest.approx(1795971600.25)


def test_who_acknowledged_a_simulated_player_or_a_person(tracker: Tracker) -> None:
    ladder = next(live for live in tracker if live.scenario.id == "escalation-ladder")
    crypto = next(live for live in tracker if live.scenario.id == "crypto")
    for live, finding_id in ((ladder, FINDING_ID), (crypto, "ab" * 16)):
        prepare(tracker, live.key, finding_id)
        tracker.injected(live.key)
    tracker.acknowledged(ladder.key, level=1, contact="ir-oncall-primary", acknowledged_at="x", wall=None)
    tracker.acknowledged(crypto.key, level=1, contact="alice", acknowledged_at="x", wall=None)
    tracker.acknowledged(crypto.key, level=2, contact="bob", acknowledged_at="x", wall=None)  # only the first counts
    assert ladder.ack is not None and ladder.ack.by == "sam (ir-oncall-primary)"
    assert crypto.ack is not None and crypto.ack.by == "alice" and crypto.ack.level == 1


def test_the_scoreboard_prints_plain_lines_off_a_terminal(tracker: Tracker) -> None:
    stream = io.StringIO()
    key = tracker.findings["F1"].key
    with Scoreboard(tracker, stream, title="game day drill"):
        prepare(tracker, key, FINDING_ID)
        tracker.status(key, "starting moto sandbox")  # runner chatter stays out of the log
        tracker.injected(key)
        tracker.page(key, 1, None)
    text = stream.getvalue()
    assert "\x1b" not in text
    assert f"{key} escalation-ladder: injected finding {FINDING_ID}" in text
    assert "level 1 (ir-oncall-primary) paged" in text
    assert "starting moto sandbox" not in text


def test_the_scoreboard_redraws_in_place_on_a_terminal(tracker: Tracker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    stream = io.StringIO()
    board = Scoreboard(tracker, stream, title="game day drill", live=True, refresh_seconds=60)
    with board:
        prepare(tracker, "F1", FINDING_ID)
        tracker.injected("F1")
        tracker.page("F1", 1, None)
    text = stream.getvalue()
    assert "\x1b[" in text  # redrawn in place
    last = text.rsplit("\x1b[J", 1)[-1]  # what stays on screen: the final board
    assert "F1" in last and "F2" in last and "escalation-ladder" in last and "crypto" in last
    assert "ir-oncall-primary" not in last.splitlines()[0]  # the header row
    row = next(line for line in last.splitlines() if line.startswith("F1"))
    assert " 1 " in f" {row} " and row.rstrip().endswith("observing")


def test_a_human_players_row_says_how_to_acknowledge(tracker: Tracker) -> None:
    crypto = next(live for live in tracker if live.scenario.id == "crypto")
    prepare(tracker, crypto.key, "ab" * 16)
    tracker.injected(crypto.key)
    row = next(line for line in render_rows(tracker) if line.startswith(crypto.key))
    assert f"simulate ack {crypto.key}" in row


def test_the_state_file_follows_the_game_day_and_goes_away_with_it(tracker: Tracker, tmp_path: Path) -> None:
    state = StateFile(tmp_path / "report", tmp_path / "reports", "drill", "run-1", 600)
    state.attach(tracker)
    [pointer] = (tmp_path / "reports" / RUNNING_DIR).iterdir()
    assert json.loads(pointer.read_text())["state"] == str((tmp_path / "report" / STATE_FILE).resolve())
    prepare(tracker, "F1", FINDING_ID)
    tracker.injected("F1")
    tracker.page("F1", 1, None)
    path, data = read_running_state(None, tmp_path / "reports")
    assert path == state.path and data["pid"] == os.getpid()
    finding = data["findings"][0]
    assert finding["finding_id"] == FINDING_ID and finding["endpoint_url"] == "http://127.0.0.1:1"
    assert finding["table_name"] == "run-f1-escalation-acks" and finding["levels_paged"] == [1]
    assert oct(state.path.stat().st_mode & 0o777) == "0o600"  # it holds the sandbox's credentials
    assert read_running_state(tmp_path / "report", tmp_path / "elsewhere")[0] == state.path
    state.remove()
    assert not state.path.exists() and not pointer.exists()
    with pytest.raises(UsageError, match="no game day is running"):
        read_running_state(None, tmp_path / "reports")


def test_with_two_game_days_running_the_finding_chooses_and_a_shared_key_is_refused(tracker: Tracker,
                                                                                     tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    first = StateFile(tmp_path / "first", reports, "drill", "run-1", 600)
    second = StateFile(tmp_path / "second", reports, "night-drill", "run-2", 600)
    first.attach(tracker)
    prepare(tracker, "F1", FINDING_ID)
    tracker.injected("F1")
    second.write(tracker)  # the second game day's own F1, with another finding id
    second.attach(tracker)
    data = json.loads(second.path.read_text())
    data["findings"][0]["finding_id"] = "f" * 32
    second.path.write_text(json.dumps(data))
    first.write(tracker)

    assert read_running_state(None, reports, FINDING_ID[:8])[0] == first.path
    assert read_running_state(None, reports, "ffffffff")[0] == second.path
    with pytest.raises(UsageError, match=r"2 game days are running and 'F1' could be in 2 of them.*drill.*night-drill"
                                         r".*--gameday DIR"):
        read_running_state(None, reports, "F1")
    second.remove()
    assert read_running_state(None, reports, "F1")[0] == first.path  # the one left
    first.remove()


def test_a_pointer_left_by_a_killed_game_day_is_cleared(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / STATE_FILE).write_text(json.dumps({"pid": int(gone.stdout), "findings": []}))
    pointers = tmp_path / "reports" / RUNNING_DIR
    pointers.mkdir(parents=True)
    (pointers / f"{gone.stdout.strip()}-run-9.json").write_text(json.dumps({"state": str(tmp_path / STATE_FILE)}))
    assert running_gamedays(tmp_path / "reports") == []
    assert list(pointers.iterdir()) == []
    with pytest.raises(UsageError, match="no game day is running"):
        read_running_state(None, tmp_path / "reports", "F1")


def test_a_state_file_left_by_a_stopped_game_day_is_not_running(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / STATE_FILE).write_text(json.dumps({"pid": int(gone.stdout), "findings": []}))
    with pytest.raises(UsageError, match="has stopped"):
        read_running_state(tmp_path, tmp_path)


FINDINGS = [{"key": "F1", "finding_id": "5d2e8f0a" + "0" * 24}, {"key": "F2", "finding_id": "5d2e9b11" + "1" * 24},
            {"key": "F3", "finding_id": "a0b1c2d3" + "2" * 24}]


@pytest.mark.parametrize(("reference", "key"), [("F2", "F2"), ("f3", "F3"), ("5d2e8", "F1"), ("A0B1", "F3")])
def test_a_finding_is_named_by_its_key_or_a_unique_prefix_of_its_id(reference: str, key: str) -> None:
    assert find_finding(reference, FINDINGS)["key"] == key


@pytest.mark.parametrize(("reference", "message"), [
    ("5d2e", "names 2 findings"), ("ffff", "no finding 'ffff'"), ("  ", "name the finding"),
])
def test_an_unknown_or_ambiguous_finding_is_refused(reference: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        find_finding(reference, FINDINGS)


def test_simulate_ack_without_a_running_game_day_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ack", "F1", "--gameday", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no game day is running" in err and len(err.strip().splitlines()) == 1
    assert cli.main(["ack", "F1", "--level", "0", "--gameday", str(tmp_path)]) == 2
    assert "--level 0" in capsys.readouterr().err
