"""report.md: a CI job page summary with the overall verdict, per-scenario tables and the repro of failures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from report_samples import SECRETS, failing_result, passing_result, sample_report

from simulator.reports.markdown import render_markdown, write_markdown


def table_rows(text: str, header_start: str) -> list[list[str]]:
    """The body rows of the first table whose header starts with ``header_start``, split on unescaped pipes."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.replace("\\|", "\x00").strip("|").split("|")]
        rows.append([cell.replace("\x00", "|") for cell in cells])
    return rows


def test_overall_line_counts_scenarios_and_steps() -> None:
    text = render_markdown(sample_report())
    assert text.startswith("## ❌ gdsim FAIL: 1 of 2 scenario(s) passed\n")
    assert "7 of 10 steps within SLA" in text
    assert "### ❌ `crypto`" in text and "### ✅ `crypto-again`" in text


def test_steps_table_has_a_row_per_step_with_sla_observed_and_verdict() -> None:
    rows = table_rows(render_markdown(sample_report(failing_result())), "| step |")
    assert [row[0] for row in rows] == ["`notify`", "`quarantine`", "`revoke-credentials`", "`snapshot`", "`stop`"]
    quarantine = rows[1]
    assert quarantine[2:6] == ["15m", "16m00s", "16.00 s", "⚠️ late"]
    assert rows[4][5] == "❌ missing" and "is running" in rows[4][6]


def test_broken_invariants_and_the_repro_are_shown_for_a_failure() -> None:
    text = render_markdown(sample_report(failing_result()))
    invariants = {row[0]: row for row in table_rows(text, "| invariant |")}
    assert invariants["`blast_radius`"][1] == "❌ broken"
    assert "CreateLoginProfile" in invariants["`blast_radius`"][2]
    assert "```sh\nsimulate --scenario crypto --responder examples/my_responder.py:handler" in text
    assert "API journal around misses" in text


def test_a_passing_run_prints_no_repro() -> None:
    text = render_markdown(sample_report(passing_result()))
    assert text.startswith("## ✅ gdsim PASS: 1 of 1 scenario(s) passed")
    assert "```sh" not in text and "around misses" not in text


def test_cells_stay_on_one_line_with_pipes_escaped() -> None:
    result = failing_result()
    result.steps[2] = replace(result.steps[2], detail="a | b\nc")
    rows = table_rows(render_markdown(sample_report(result)), "| step |")
    assert rows[2][6] == "a | b c"
    assert len(rows[2]) == 7


def test_no_secret_reaches_the_summary(tmp_path: Path) -> None:
    written = write_markdown(sample_report(), tmp_path)
    text = written.read_text(encoding="utf-8")
    assert written.name == "report.md"
    for secret in SECRETS:
        assert secret not in text
    assert "[redacted]" in text
