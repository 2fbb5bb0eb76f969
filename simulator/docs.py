"""Documentation generated from the code and the scenario files, so it cannot drift from them.

Generated blocks sit between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` markers in
Markdown files; ``update_docs()`` rewrites them and ``stale_docs()`` names the ones out of date.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from simulator.paths import PROJECT_ROOT, SCENARIOS_DIR


def _first_sentence(doc: str | None) -> str:
    text = " ".join((doc or "").split())
    sentence = text.split(". ")[0].rstrip(".")
    return sentence.replace("``", "`").replace("|", "\\|")


def kinds_table() -> str:
    """Every registered expectation kind with its parameters and when it holds."""
    from simulator.observers import registered_kinds

    rows = ["| kind | parameters | holds when |", "|---|---|---|"]
    for name, spec in sorted(registered_kinds().items()):
        params = " or ".join(", ".join(f"`{p}`" for p in sorted(alt)) for alt in spec.alternatives)
        if spec.optional:
            params += " (optional: " + ", ".join(f"`{p}`" for p in sorted(spec.optional)) + ")"
        rows.append(f"| `{name}` | {params or '-'} | {_first_sentence(spec.observer.__doc__)} |")
    return "\n".join(rows)


def scenario_index() -> str:
    """One row per scenario file: purpose, finding types, urgency, steps with SLAs, responder."""
    from simulator.scenario import list_scenarios

    rows = ["| scenario | threat purpose | finding types | urgency | steps (SLA) | responder |",
            "|---|---|---|---|---|---|"]
    for scenario in list_scenarios():
        steps = ", ".join(f"{step.id} {step.within_text}" for step in scenario.steps)
        types = "<br>".join(f"`{t}`" for t in scenario.finding_types)
        rows.append(f"| [{scenario.id}]({scenario.source_path.name}) | {scenario.threat_purpose} | {types} | "
                    f"{scenario.urgency} | {steps} | `{scenario.responder.handler}` |")
    return "\n".join(rows)


GENERATED: dict[tuple[Path, str], Callable[[], str]] = {
    (SCENARIOS_DIR / "README.md", "kinds"): kinds_table,
    (SCENARIOS_DIR / "INDEX.md", "scenarios"): scenario_index,
}


def _block(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- generated:{name} -->\n)(.*?)(<!-- /generated:{name} -->)", re.S)


def _render(path: Path, name: str, text: str, body: str) -> str:
    pattern = _block(name)
    if not pattern.search(text):
        raise ValueError(f"{path.relative_to(PROJECT_ROOT)} has no <!-- generated:{name} --> block")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(3), text)


def stale_docs() -> list[str]:
    """Files whose generated blocks differ from what the code and scenarios say now."""
    stale = []
    for (path, name), render in GENERATED.items():
        text = path.read_text(encoding="utf-8")
        if _render(path, name, text, render()) != text:
            stale.append(f"{path.relative_to(PROJECT_ROOT)} ({name})")
    return stale


def update_docs() -> list[Path]:
    changed = []
    for (path, name), render in GENERATED.items():
        text = path.read_text(encoding="utf-8")
        updated = _render(path, name, text, render())
        if updated != text:
            path.write_text(updated, encoding="utf-8")
            changed.append(path)
    return changed


if __name__ == "__main__":
    for changed_path in update_docs():
        print(f"updated {changed_path.relative_to(PROJECT_ROOT)}")
