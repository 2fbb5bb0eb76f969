"""junit.xml: the run for CI systems' test readers, in the common (Ant) JUnit schema.

One test suite per scenario; one test case per runbook step (classname = scenario id, name = step id) and one
per invariant (classname = "<scenario id>.invariants"). A late or missing step, or a broken invariant, is a
<failure> whose message gives the SLA, the observed time and the reason; a run the harness could not finish is
an <error>. The suite's properties say how to replay it (seed, run id, time scale, repro command).
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from simulator.reports.model import RunReport, ScenarioResult
from simulator.reports.redact import redact_text
from simulator.reports.table import format_runbook, format_wall
from simulator.verdicts.model import MET, MISSING, Invariant, StepVerdict

JUNIT_FILE = "junit.xml"
SUITES_NAME = "gdsim"

# Characters XML 1.0 cannot carry at all (a responder's log may hold any byte).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: object) -> str:
    return _NOT_XML.sub("\ufffd", redact_text("" if value is None else str(value)))


def _seconds(value: float | None) -> str:
    return f"{max(value or 0.0, 0.0):.3f}"


def _timestamp(started_at: str) -> str:
    """The schema's xs:dateTime without a zone: UTC, to the second."""
    try:
        moment = datetime.fromisoformat(started_at)
    except ValueError:
        moment = datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def step_message(step: StepVerdict) -> str:
    """One line: the step's verdict, observed time and SLA (runbook time, wall time in brackets)."""
    sla = step.sla_text or format_runbook(step.sla_seconds)
    if step.verdict == MISSING:
        return f"{step.id}: missing: never observed (SLA {sla})"
    observed = f"{format_runbook(step.observed_seconds)} (wall {format_wall(step.observed_wall_seconds)})"
    if step.verdict == MET:
        return f"{step.id}: met at {observed}, SLA {sla}"
    return f"{step.id}: late: observed at {observed}, SLA {sla}"


def _step_details(step: StepVerdict, result: ScenarioResult) -> str:
    lines = [step_message(step), f"what: {step.title}" if step.title else "", f"expectation: {step.kind}"]
    if step.operation:
        lines.append(f"dated by the journal: {step.operation}")
    if step.detail:
        lines.append(f"detail: {step.detail}")
    lines.append(f"repro: {result.repro}")
    return "\n".join(line for line in lines if line)


def _add_step(suite: ET.Element, step: StepVerdict, result: ScenarioResult, window: float | None) -> None:
    # A case's time is how long the step took (or was waited for, when it never came), in wall seconds.
    took = step.observed_wall_seconds if step.observed_wall_seconds is not None else window
    case = ET.SubElement(suite, "testcase", name=step.id, classname=result.id, time=_seconds(took))
    if step.verdict != MET:
        failure = ET.SubElement(case, "failure", message=_text(step_message(step)), type=step.verdict)
        failure.text = _text(_step_details(step, result))


def _add_invariant(suite: ET.Element, invariant: Invariant, result: ScenarioResult) -> None:
    case = ET.SubElement(suite, "testcase", name=invariant.id, classname=f"{result.id}.invariants", time="0.000")
    if not invariant.held:
        failure = ET.SubElement(case, "failure", message=_text(f"{invariant.id}: broken: {invariant.detail}"),
                                type="invariant")
        violations = [line for line in invariant.violations if line != invariant.detail]
        failure.text = _text("\n".join([invariant.detail, *violations, f"repro: {result.repro}"]))


def _properties(suite: ET.Element, report: RunReport, result: ScenarioResult) -> None:
    properties = ET.SubElement(suite, "properties")
    values = {
        "run_id": report.run_id, "target": report.target, "seed": result.seed, "time_scale": f"{result.time_scale:g}",
        "repro": result.repro, "finding_types": ",".join(result.finding_types),
        "finding_ids": ",".join(result.finding_ids), "responder": report.responder, "chaos": report.chaos,
    }
    for name, value in values.items():
        if value is not None and value != "":
            ET.SubElement(properties, "property", name=name, value=_text(value))


def _system_out(result: ScenarioResult) -> str:
    lines = [f"{result.id}: {result.title}", *(step_message(step) for step in result.steps)]
    lines += [f"{inv.id}: {'held' if inv.held else 'BROKEN'}: {inv.detail}" for inv in result.invariants]
    lines.append(f"repro: {result.repro}")
    return _text("\n".join(lines))


def _suite(parent: ET.Element, index: int, report: RunReport, result: ScenarioResult) -> ET.Element:
    failures = len(result.unmet) + len(result.broken)
    errors = 1 if result.error else 0
    tests = len(result.steps) + len(result.invariants) + errors
    window = result.observed_for_wall_seconds
    suite = ET.SubElement(parent, "testsuite", name=f"{SUITES_NAME}.{result.id}", tests=str(tests),
                          failures=str(failures), errors=str(errors), skipped="0", time=_seconds(window),
                          timestamp=_timestamp(report.started_at), hostname=socket.gethostname() or "localhost",
                          id=str(index), package=SUITES_NAME)
    _properties(suite, report, result)
    for step in result.steps:
        _add_step(suite, step, result, window)
    for invariant in result.invariants:
        _add_invariant(suite, invariant, result)
    if result.error:
        case = ET.SubElement(suite, "testcase", name="run", classname=result.id, time=_seconds(window))
        error = ET.SubElement(case, "error", message=_text(result.error), type="HarnessError")
        error.text = _text(f"{result.error}\nrepro: {result.repro}")
    ET.SubElement(suite, "system-out").text = _system_out(result)
    ET.SubElement(suite, "system-err").text = _text("\n".join(result.harness_errors))
    return suite


def render_junit(report: RunReport) -> str:
    """The run as a JUnit XML document."""
    root = ET.Element("testsuites", name=SUITES_NAME)
    suites = [_suite(root, index, report, result) for index, result in enumerate(report.scenarios)]
    for total in ("tests", "failures", "errors"):
        root.set(total, str(sum(int(suite.get(total, "0")) for suite in suites)))
    root.set("time", _seconds(sum(float(suite.get("time", "0")) for suite in suites)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(report: RunReport, path: Path | str) -> Path:
    """Write junit.xml to ``path`` (a file, or a folder to put junit.xml in); returns the file."""
    target = Path(path)
    if target.is_dir():
        target = target / JUNIT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_junit(report), encoding="utf-8")
    return target
