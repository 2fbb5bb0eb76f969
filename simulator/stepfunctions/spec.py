"""The responder form ``stepfunctions:path/to/flow.asl.json``, accepted wherever a handler is."""

from __future__ import annotations

from pathlib import Path

from simulator.errors import InputError
from simulator.paths import PROJECT_ROOT

STATE_MACHINE_PREFIX = "stepfunctions:"
FIELD = "responder.handler"
FIX = "write stepfunctions:path/to/definition.asl.json (relative to the working folder or the project)"


def is_state_machine_responder(responder: str | None) -> bool:
    """Whether a responder (``--responder`` or ``responder.handler``) names a state machine definition."""
    return bool(responder) and str(responder).startswith(STATE_MACHINE_PREFIX)


def state_machine_path(responder: str, *, base_dir: Path | None = None) -> Path:
    """The definition file a ``stepfunctions:`` responder names; relative paths are looked up in the
    working folder, then in the project (so the reference flows work from anywhere)."""
    if not is_state_machine_responder(responder):
        raise InputError(f"responder {responder!r} is not a state machine", field=FIELD, fix=FIX)
    text = responder[len(STATE_MACHINE_PREFIX):].strip()
    if not text:
        raise InputError(f"responder {responder!r} names no definition file", field=FIELD, fix=FIX)
    path = Path(text).expanduser()
    candidates = [path] if path.is_absolute() else [(base_dir or Path.cwd()) / path, PROJECT_ROOT / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise InputError(f"responder {responder!r}: file {text!r} does not exist", field=FIELD, fix=FIX)


def check_state_machine_responder(responder: str) -> Path:
    """The definition file, read and checked for its shape: call before anything is built, so a bad
    ``stepfunctions:`` responder is refused with exit code 2 and an untouched sandbox."""
    from simulator.stepfunctions.definition import load_definition

    path = state_machine_path(responder)
    load_definition(path)
    return path
