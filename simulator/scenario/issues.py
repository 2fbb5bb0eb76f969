"""Problems found in a scenario file, each located by line and field path, reported all together."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from simulator.errors import LocatedProblems
from simulator.scenario.loader import Located, NodePath


@dataclass(frozen=True)
class Issue:
    path: NodePath
    message: str
    fix: str = ""
    line: int | None = None  # None: the line of ``path`` in the file

    def render(self, file: str, line: int) -> str:
        field = format_path(self.path)
        where = f"{file}:{line}: {field}: " if field else f"{file}:{line}: "
        return f"{where}{self.message}" + (f" ({self.fix})" if self.fix else "")


class ScenarioError(LocatedProblems):
    """One or more problems in scenario files; the message has one located line per problem."""


def format_path(path: NodePath) -> str:
    """('steps', 2, 'within') -> 'steps[2].within'."""
    text = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        elif isinstance(part, str) and part and all(c.isalnum() or c in "_-$" for c in part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


def display_path(path: Path) -> str:
    """The path as the user would type it: relative to the working directory when inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def render_issues(issues: Sequence[Issue], located: Located, shown: str) -> list[str]:
    """Each issue as ``file:line: field: problem (fix)``, in file order, without repeats."""
    placed = sorted(((issue.line or located.line_of(issue.path), issue) for issue in issues),
                    key=lambda pair: pair[0])
    rendered: list[str] = []
    for line, issue in placed:
        text = issue.render(shown, line)
        if text not in rendered:
            rendered.append(text)
    return rendered
