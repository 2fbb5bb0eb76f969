"""The terminal table: steps in runbook and wall time, invariants, the verdict line and the repro."""

from __future__ import annotations

from simulator.reports import RunReport, ScenarioResult, format_runbook, format_wall, render_table, verdict_line
from simulator.verdicts import Invariant, StepVerdict


def result(steps: list[StepVerdict], invariants: list[Invariant], **kwargs: object) -> ScenarioResult:
    fields: dict[str, object] = {
        "id": "crypto", "title": "EC2 instance mining cryptocurrency",
        "finding_types": ["CryptoCurrency:EC2/BitcoinTool.B!DNS"], "finding_ids": ["f1"], "steps": steps,
        "invariants": invariants, "time_scale": 60.0, "seed": 42,
        "repro": "simulate --scenario crypto --time-scale 60 --seed 42", "observed_for_wall_seconds": 90.0,
    }
    fields.update(kwargs)
    return ScenarioResult(**fields)  # type: ignore[arg-type]


MET = StepVerdict("notify", 300.0, 12.6, 0.21, "met", title="Notify the IR on-call", sla_text="5m")
LATE = StepVerdict("quarantine", 900.0, 1530.0, 25.5, "late", title="Isolate the instance", sla_text="15m")
MISSING = StepVerdict("stop", 3600.0, None, None, "missing", title="Stop the instance", sla_text="1h",
                      detail="i-0abc is running")
HELD = Invariant("no_unhandled_errors", True, "1 invocation(s), none failed")
BROKEN = Invariant("blast_radius", False, "ec2:StopInstances on i-0def (bystander 'neighbour')")


def report(*results: ScenarioResult) -> RunReport:
    return RunReport(run_id="gdsim-run", target="moto", time_scale=60.0, seed=42, scenarios=list(results))


def rows_of(text: str, first_word: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(first_word + " ")]


def test_a_passing_scenario_shows_its_steps_and_no_repro() -> None:
    text = render_table(report(result([MET], [HELD])))
    (row,) = rows_of(text, "notify")
    assert row.split()[-4:] == ["12.6s", "210", "ms", "met"]
    assert "5m" in row.split()
    assert "PASS crypto: 1 of 1 steps met, 1 of 1 invariants held" in text
    assert "repro:" not in text
    assert "note" not in text.splitlines()[3], "no note column when nothing needs a note"


def test_a_failing_scenario_says_what_is_unmet_after_how_long_and_how_to_replay_it() -> None:
    text = render_table(report(result([MET, LATE, MISSING], [HELD, BROKEN])))
    assert rows_of(text, "quarantine")[0].split()[-5:] == ["15m", "25m30s", "25.50", "s", "LATE"]
    missing = rows_of(text, "stop")[0]
    assert missing.split()[4:8] == ["1h", "-", "-", "MISSING"]
    assert missing.endswith("i-0abc is running")
    assert rows_of(text, "blast_radius")[0].split()[1] == "BROKEN"
    assert ("FAIL crypto: 2 of 3 steps unmet after 90.00 s (runbook 1h30m); "
            "1 invariant(s) broken (blast_radius)") in text
    assert text.rstrip().splitlines()[-1] == "repro: simulate --scenario crypto --time-scale 60 --seed 42"


def test_only_broken_invariants_fail_the_verdict_line() -> None:
    line = verdict_line(result([MET], [BROKEN], observed_for_wall_seconds=None))
    assert line == "FAIL crypto: 1 invariant(s) broken (blast_radius)"
    aborted = verdict_line(result([MISSING], [], observed_for_wall_seconds=None, error="moto did not start"))
    assert aborted == "FAIL crypto: run aborted: moto did not start; 1 of 1 steps unmet"


def test_several_scenarios_end_with_a_summary() -> None:
    text = render_table(report(result([MET], [HELD]), result([MISSING], [HELD], id="ransom")))
    assert text.rstrip().splitlines()[-1] == "gdsim-run on moto: 1 of 2 scenarios passed"


def test_runbook_and_wall_formats() -> None:
    assert [format_runbook(s) for s in (None, 0.04, 42.34, 59.96, 245, 3600, 3725)] == [
        "-", "0.0s", "42.3s", "60.0s", "4m05s", "1h00m", "1h02m"]
    assert [format_wall(s) for s in (None, 0.0123, 0.9994, 1.844)] == ["-", "12 ms", "999 ms", "1.84 s"]
