"""report.html: one self-contained, well-formed document with, per scenario, a timeline, the steps, invariants,
chaos faults, the journal around misses and the repro; secrets redacted and every text escaped."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

from report_samples import SECRETS, failing_result, passing_result, sample_report

from simulator.reports.html import render_html, write_html

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Document(HTMLParser):
    """Checks that every element is closed in order, and collects elements with their attributes."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []  # tag, attributes, open ancestors
        self.text_parts: list[str] = []
        self.feed(text)
        self.close()
        if self.stack:
            self.problems.append(f"unclosed: {self.stack}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}, list(self.stack)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}, list(self.stack)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a, _ in self.elements if t == tag and all(a.get(k.replace("_", "-")) == v
                                                                   for k, v in attrs.items())]

    def with_class(self, tag: str, css: str) -> list[dict[str, str]]:
        return [a for t, a, _ in self.elements if t == tag and css in a.get("class", "").split()]

    @property
    def text(self) -> str:
        return "".join(self.text_parts)


def test_the_document_is_well_formed_and_self_contained() -> None:
    html = render_html(sample_report())
    doc = Document(html)
    assert doc.problems == []
    assert html.startswith("<!DOCTYPE html>")
    assert not doc.find("script") and not doc.find("link") and not doc.find("img") and not doc.find("iframe")
    ids = [attrs["id"] for _tag, attrs, _ in doc.elements if "id" in attrs]
    assert len(ids) == len(set(ids))
    for _tag, attrs, _ in doc.elements:
        assert "src" not in attrs
        assert attrs.get("href", "#").startswith("#"), attrs
        if "href" in attrs:
            assert attrs["href"][1:] in ids  # in-page links land somewhere
    assert "@import" not in html and "url(" not in html


def test_each_scenario_has_its_timeline_steps_and_invariants() -> None:
    doc = Document(render_html(sample_report()))
    sections = doc.find("section")
    assert [(s["data-scenario"], s["data-verdict"]) for s in sections] == [("crypto", "fail"), ("crypto-again", "pass")]
    assert len(doc.with_class("svg", "timeline")) == 2
    rows = [(a["data-step"], a["data-verdict"]) for a in doc.find("tr") if "data-step" in a]
    assert rows[:5] == [("notify", "met"), ("quarantine", "late"), ("revoke-credentials", "missing"),
                        ("snapshot", "met"), ("stop", "missing")]
    assert len(rows) == 10
    invariants = [(a["data-invariant"], "broken" in a["class"]) for a in doc.find("tr") if "data-invariant" in a]
    assert invariants[:2] == [("blast_radius", True), ("no_unhandled_errors", True)]


def test_the_timeline_draws_effects_sla_markers_pages_and_faults() -> None:
    doc = Document(render_html(sample_report(failing_result())))
    lanes = [(a["data-step"], a["data-verdict"]) for a in doc.find("g") if "data-step" in a]
    assert [lane[0] for lane in lanes] == ["notify", "quarantine", "revoke-credentials", "snapshot", "stop"]
    assert len(doc.with_class("line", "sla")) == 5  # one SLA marker per step
    assert len(doc.with_class("circle", "effect")) == 3  # met, late, met
    assert len(doc.with_class("text", "missing")) == 2
    assert len(doc.with_class("circle", "page")) == 1
    assert len(doc.with_class("path", "level-due")) == 3  # the escalation path's three levels
    assert len(doc.with_class("path", "fault")) == 1
    assert len(doc.with_class("rect", "invocation")) == 1


def test_faults_the_journal_around_misses_and_the_repro() -> None:
    html = render_html(sample_report(failing_result()))
    doc = Document(html)
    fault_tables = doc.with_class("table", "faults")
    assert len(fault_tables) == 1
    excerpt_seqs = [a["data-seq"] for t, a, ancestors in doc.elements if t == "tr" and "data-seq" in a]
    assert excerpt_seqs[0] == "3"  # the faulted call, in the faults table
    assert set(excerpt_seqs[1:]) >= {"3", "4", "5", "6"}
    assert "dated late step: quarantine" in doc.text
    assert "invariant broken: blast_radius" in doc.text
    repro = "simulate --scenario crypto --responder examples/my_responder.py:handler --time-scale 60 --seed 7"
    assert repro in doc.text


def test_a_passing_scenario_says_nothing_was_missed() -> None:
    doc = Document(render_html(sample_report(passing_result())))
    assert "nothing was missed" in doc.text
    assert "no fault was injected" in doc.text
    assert not [a for a in doc.find("tr") if "data-seq" in a]


def test_secrets_are_redacted_and_text_is_escaped() -> None:
    result = failing_result()
    result.steps[0] = replace(result.steps[0], title='<script>alert("x")</script>', detail="<b>bold</b>")
    html = render_html(sample_report(result))
    for secret in SECRETS:
        assert secret not in html
    assert html.count("[redacted]") >= 5
    assert "<script" not in html and "&lt;script&gt;" in html
    assert Document(html).problems == []


def test_without_an_injection_moment_the_timeline_is_explained() -> None:
    result = replace(failing_result(), timeline=None)
    assert "the moment of injection is unknown" in Document(render_html(sample_report(result))).text


def test_write_html_into_a_folder(tmp_path: Path) -> None:
    written = write_html(sample_report(), tmp_path)
    assert written == tmp_path / "report.html"
    assert re.search(r"<title>gdsim scorecard: gdsim-20240101T000000-abcd \(FAIL\)</title>", written.read_text())
