"""Chaos profiles as data: the built-in ones load, and a bad file is reported problem by problem, located."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.chaos import ChaosProfileError, list_profiles, load_profile, parse_profile, profile_names
from simulator.errors import GdsimError, InputError

REQUIRED = {"throttle", "flaky-5xx", "slow-api", "duplicate", "reorder", "drop", "storm", "bad-day"}


def write(tmp_path: Path, text: str, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_required_profile_ships_and_describes_itself() -> None:
    profiles = {profile.name: profile for profile in list_profiles()}
    assert set(profiles) >= REQUIRED
    assert set(profile_names()) == set(profiles)
    for profile in profiles.values():
        assert profile.description.strip()
        assert profile.summary() and profile.summary() != "nothing (a control run)"
        assert profile.argument() == profile.name


def test_profiles_say_what_they_do() -> None:
    throttle = load_profile("throttle")
    assert [rule.kind for rule in throttle.faults] == ["throttle", "throttle"]
    assert throttle.faults[0].times == 1 and throttle.faults[1].probability == 0.25
    assert throttle.delivery.empty
    drop = load_profile("drop")
    assert not drop.faults and drop.delivery.drop is not None and drop.delivery.drop.probability == 1.0
    slow = load_profile("slow-api")
    assert slow.faults[0].delay == 1.0 and slow.faults[0].jitter == 2.0  # runbook seconds
    assert load_profile("reorder").delivery.reorder.gap == 20.0
    denied = load_profile("deny-snapshot").faults[0]
    assert denied.kind == "deny" and "CreateSnapshot" in denied.operation


def test_a_profile_file_is_loaded_by_path(tmp_path: Path) -> None:
    path = write(tmp_path, "name: mine\ndescription: my own\n"
                           "faults:\n  - {kind: reset, service: sns, operation: Publish}\n")
    profile = load_profile(str(path))
    assert profile.name == "mine"
    assert profile.faults[0].service == ("sns",) and profile.faults[0].operation == ("Publish",)
    assert profile.faults[0].callers == ("responder", "stepfunctions")
    assert profile.argument() == str(path.resolve())


def test_unknown_name_lists_the_known_profiles() -> None:
    with pytest.raises(InputError) as caught:
        load_profile("hurricane")
    message = str(caught.value)
    assert "--chaos" in message and "hurricane" in message
    for name in REQUIRED:
        assert name in message


def test_missing_file_is_named() -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_profile("no/such/profile.yaml")


def test_every_problem_is_reported_with_its_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "\n".join([
        "name: Bad_Name",                                      # 1
        "description: broken on purpose",                      # 2
        "faults:",                                             # 3
        "  - {kind: throttel}",                                # 4
        "  - {kind: latency}",                                 # 5
        "  - {kind: throttle, probability: 2, colour: red}",   # 6
        "  - {kind: error, status: 404}",                      # 7
        "  - {kind: deny, delay: 2s}",                         # 8
        "delivery:",                                           # 9
        "  delay: {by: 5}",                                    # 10
        "  dup: {}",                                           # 11
    ]) + "\n")
    with pytest.raises(ChaosProfileError) as caught:
        load_profile(path)
    lines = caught.value.lines
    text = "\n".join(lines)
    shown = str(caught.value.location)
    assert all(line.startswith(f"{shown}:") for line in lines)
    expected = [
        (1, "name", "not a valid profile name"),
        (4, "faults[0].kind", "throttle, error, latency, reset, deny"),
        (5, "faults[1]", "needs a delay"),
        (6, "faults[2].colour", "unknown field 'colour'"),
        (6, "faults[2].probability", "less than or equal to 1"),
        (7, "faults[3]", "not a server error"),
        (8, "faults[4]", "takes no delay"),
        (10, "delivery.delay.by", "has no unit"),
        (11, "delivery.dup", "known fields: drop, delay, duplicate, reorder, burst"),
    ]
    for line, field, words in expected:
        assert any(entry.startswith(f"{shown}:{line}: {field}: ") and words in entry for entry in lines), \
            f"no line {line} {field} {words!r} in:\n{text}"
    assert isinstance(caught.value, GdsimError) and caught.value.exit_code == 2


def test_syntax_errors_and_non_mappings_are_located(tmp_path: Path) -> None:
    with pytest.raises(ChaosProfileError, match=r"bad\.yaml:\d+: not valid YAML"):
        load_profile(write(tmp_path, "name: x\ndescription: [unclosed\nfaults: []\n", "bad.yaml"))
    with pytest.raises(ChaosProfileError, match="is a mapping"):
        load_profile(write(tmp_path, "- just a list\n", "list.yaml"))


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ChaosProfileError, match=r":3: name: duplicate key \(first at line 1\)"):
        load_profile(write(tmp_path, "name: a\ndescription: d\nname: b\n"))


def test_a_built_in_profile_must_be_named_after_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from simulator import paths

    monkeypatch.setattr(paths, "PROJECT_ROOT", tmp_path)
    (tmp_path / "chaos").mkdir()
    write(tmp_path / "chaos", "name: other\ndescription: d\n", "mine.yaml")
    with pytest.raises(ChaosProfileError, match="differs from the file name"):
        load_profile("mine")
    with pytest.raises(ChaosProfileError):
        list_profiles()


def test_parse_profile_accepts_lists_globs_and_filters() -> None:
    profile = parse_profile(
        "name: p\ndescription: d\nfaults:\n"
        "  - {kind: error, service: [ec2, iam], operation: 'Create*', mutating: true, status: 503,\n"
        "     after: 2, times: 3}\n"
        "  - {kind: latency, delay: 1m30s, callers: any}\n"
        "delivery:\n  burst: {copies: 3, within: 2m}\n  duplicate: {probability: 0.5}\n",
        Path("p.yaml"))
    error, latency = profile.faults
    assert error.service == ("ec2", "iam") and error.operation == ("Create*",) and error.mutating is True
    assert (error.status, error.after, error.times) == (503, 2, 3)
    assert latency.delay == 90.0 and latency.callers == ("any",)
    assert profile.delivery.burst.copies == 3 and profile.delivery.burst.within == 120.0
    assert profile.delivery.duplicate.copies == 1 and profile.delivery.duplicate.probability == 0.5
    assert "503 error: ec2/iam Create* writes" in profile.summary()
