"""Errors the user can act on. Each surfaces as one line on stderr and exit code 2."""

from __future__ import annotations

from collections.abc import Sequence


class GdsimError(Exception):
    """Base for every error the harness reports to the user instead of a traceback."""

    exit_code = 2


class UsageError(GdsimError):
    """A bad CLI flag or argument value."""


class InputError(GdsimError):
    """A bad input file or value, located as precisely as we can.

    ``location`` is ``file[:line]`` and ``field`` a dotted path such as ``steps[2].within``;
    ``fix`` says what to do about it.
    """

    def __init__(self, message: str, *, location: str = "", field: str = "", fix: str = "") -> None:
        self.message = message
        self.location = location
        self.field = field
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        where = ": ".join(part for part in (self.location, self.field) if part)
        text = f"{where}: {self.message}" if where else self.message
        return f"{text} ({self.fix})" if self.fix else text


class LocatedProblems(InputError):
    """Every problem found in an input file at once, one ``file:line: field: message (fix)`` line each."""

    def __init__(self, lines: Sequence[str], *, location: str = "") -> None:
        self.lines = list(lines)
        super().__init__("\n".join(self.lines))
        self.location = location

    def render(self) -> str:
        return "\n".join(self.lines)


class UnsafeTargetError(GdsimError):
    """A target refused by the guardrails (real account not opted in or not allowlisted)."""


class SandboxError(GdsimError):
    """The sandbox could not be started or reached."""

    exit_code = 2
