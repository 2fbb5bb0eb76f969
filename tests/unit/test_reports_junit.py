"""junit.xml parses, follows the common JUnit schema (Ant's junit.xsd required parts within Jenkins' junit-10.xsd
allowed parts), its counts add up, and its cases say what CI readers need: SLA, observed time, reason, repro."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from report_samples import SECRETS, failing_result, passing_result, sample_report

from simulator.reports.junit import render_junit, write_junit

# The schema rules, encoded: required (Ant junit.xsd) and allowed (Jenkins junit-10.xsd) attributes.
SUITES_ALLOWED = {"name", "time", "tests", "failures", "disabled", "errors"}
SUITE_REQUIRED = {"name", "tests", "failures", "errors", "time", "timestamp", "hostname", "id", "package"}
SUITE_ALLOWED = SUITE_REQUIRED | {"disabled", "skipped", "file", "log", "url", "version", "group"}
CASE_REQUIRED = {"name", "classname", "time"}
CASE_ALLOWED = CASE_REQUIRED | {"assertions", "status", "class", "file", "line", "group"}
OUTCOME_REQUIRED = {"message", "type"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")  # xs:dateTime without a zone
DECIMAL = re.compile(r"^\d+(\.\d+)?$")


def check_schema(root: ET.Element) -> None:
    assert root.tag == "testsuites"
    assert set(root.attrib) <= SUITES_ALLOWED
    assert all(child.tag == "testsuite" for child in root)
    for suite in root:
        assert SUITE_REQUIRED <= set(suite.attrib) <= SUITE_ALLOWED, suite.attrib
        assert suite.get("name", "").strip()
        assert TIMESTAMP.match(suite.get("timestamp", "")), suite.get("timestamp")
        assert DECIMAL.match(suite.get("time", "")), suite.get("time")
        assert suite.get("hostname", "").strip()
        for count in ("tests", "failures", "errors", "id"):
            assert suite.get(count, "").isdigit(), count
        tags = [child.tag for child in suite]
        # Element order: properties, testcase*, system-out, system-err.
        assert tags[0] == "properties" and tags[-2:] == ["system-out", "system-err"], tags
        assert set(tags[1:-2]) <= {"testcase"}, tags
        for prop in suite.find("properties") or []:
            assert prop.tag == "property" and set(prop.attrib) == {"name", "value"} and prop.get("name")
        for case in suite.findall("testcase"):
            assert CASE_REQUIRED <= set(case.attrib) <= CASE_ALLOWED, case.attrib
            assert case.get("name") and case.get("classname")
            assert DECIMAL.match(case.get("time", "")), case.get("time")
            outcomes = list(case)
            assert len(outcomes) <= 1 and all(o.tag in ("failure", "error") for o in outcomes)
            for outcome in outcomes:
                assert set(outcome.attrib) >= OUTCOME_REQUIRED


def check_counts(root: ET.Element) -> None:
    for suite in root:
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == sum(1 for case in cases if case.find("failure") is not None)
        assert int(suite.get("errors", "-1")) == sum(1 for case in cases if case.find("error") is not None)
    for total in ("tests", "failures", "errors"):
        assert int(root.get(total, "-1")) == sum(int(suite.get(total, "0")) for suite in root)


def parse(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))


def test_a_failing_run_follows_the_schema_and_counts_add_up() -> None:
    root = parse(render_junit(sample_report()))
    check_schema(root)
    check_counts(root)
    assert [suite.get("name") for suite in root] == ["gdsim.crypto", "gdsim.crypto-again"]
    assert root.get("failures") == "5"  # 3 unmet steps + 2 broken invariants, all in the first scenario


def test_one_case_per_step_and_per_invariant() -> None:
    suite = parse(render_junit(sample_report(failing_result())))[0]
    steps = [(c.get("classname"), c.get("name")) for c in suite.findall("testcase") if c.get("classname") == "crypto"]
    assert steps == [("crypto", s) for s in ("notify", "quarantine", "revoke-credentials", "snapshot", "stop")]
    invariants = [c.get("name") for c in suite.findall("testcase") if c.get("classname") == "crypto.invariants"]
    assert invariants == ["blast_radius", "no_unhandled_errors", "remediated_or_escalated",
                          "no_duplicate_side_effects"]


def test_failures_give_the_sla_the_observed_time_and_the_reason() -> None:
    suite = parse(render_junit(sample_report(failing_result())))[0]
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    late = cases["quarantine"].find("failure")
    assert late is not None and late.get("type") == "late"
    assert "SLA 15m" in late.get("message", "") and "16m00s" in late.get("message", "")
    assert "simulate --scenario crypto" in (late.text or "")
    missing = cases["stop"].find("failure")
    assert missing is not None and missing.get("type") == "missing"
    assert "SLA 1h" in missing.get("message", "") and "is running" in (missing.text or "")
    assert cases["notify"].find("failure") is None
    assert float(cases["notify"].get("time", "0")) == pytest.approx(0.3)
    broken = cases["blast_radius"].find("failure")
    assert broken is not None and broken.get("type") == "invariant"
    assert "CreateLoginProfile" in (broken.text or "")
    assert cases["remediated_or_escalated"].find("failure") is None


def test_properties_say_how_to_replay_the_run() -> None:
    suite = parse(render_junit(sample_report(failing_result())))[0]
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["seed"] == "7"
    assert props["run_id"] == "gdsim-20240101T000000-abcd"
    assert props["time_scale"] == "60"
    assert props["repro"].startswith("simulate --scenario crypto ")
    assert props["finding_types"] == "CryptoCurrency:EC2/BitcoinTool.B!DNS"


def test_a_passing_run_has_no_failure() -> None:
    root = parse(render_junit(sample_report(passing_result())))
    check_schema(root)
    check_counts(root)
    assert root.get("failures") == "0" and root.get("errors") == "0" and root.get("tests") == "9"


def test_a_run_the_harness_could_not_finish_is_an_error_case() -> None:
    aborted = replace(passing_result(), error="moto: the sandbox stopped answering")
    root = parse(render_junit(sample_report(aborted)))
    check_schema(root)
    check_counts(root)
    error = root.find("testsuite/testcase[@name='run']/error")
    assert error is not None and "stopped answering" in error.get("message", "")
    assert root.get("errors") == "1"


def test_no_secret_and_no_character_xml_cannot_carry() -> None:
    noisy = failing_result()
    noisy.steps[2] = replace(noisy.steps[2], detail="bell \x07 and nul \x00 in a log")
    text = render_junit(sample_report(noisy))
    root = parse(text)  # would raise on an invalid character
    check_schema(root)
    for secret in SECRETS:
        assert secret not in text
    assert "[redacted]" in text


def test_write_junit_into_a_folder(tmp_path: Path) -> None:
    written = write_junit(sample_report(), tmp_path)
    assert written == tmp_path / "junit.xml"
    check_schema(ET.parse(written).getroot())
