"""Every report file of a run, written in one call: report.json, junit.xml, report.md and report.html."""

from __future__ import annotations

from pathlib import Path

from simulator.reports.html import HTML_FILE, write_html
from simulator.reports.json_report import REPORT_FILE, write_json
from simulator.reports.junit import JUNIT_FILE, write_junit
from simulator.reports.markdown import MARKDOWN_FILE, write_markdown
from simulator.reports.model import RunReport


def write_reports(report: RunReport, report_dir: Path | str) -> dict[str, Path]:
    """Write the run's reports into ``report_dir`` (created if needed); returns {"json"|"junit"|"markdown"|
    "html": path}."""
    folder = Path(report_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "json": write_json(report, folder / REPORT_FILE),
        "junit": write_junit(report, folder / JUNIT_FILE),
        "markdown": write_markdown(report, folder / MARKDOWN_FILE),
        "html": write_html(report, folder / HTML_FILE),
    }
