"""Handler specs: ``module:function`` or ``path/to/file.py:function``, parsed and loaded."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.errors import InputError

FIELD = "responder.handler"
FIX = "give MODULE:FUNCTION (importable from the project root) or FILE.py:FUNCTION"


@dataclass(frozen=True)
class HandlerSpec:
    text: str
    module: str | None  # dotted module name, or None for a file
    path: Path | None  # absolute file path, or None for a module
    function: str

    def as_arg(self) -> str:
        """The form handed to the worker process: file paths made absolute."""
        return f"{self.path}:{self.function}" if self.path else f"{self.module}:{self.function}"


def parse_handler_spec(text: str, *, base_dir: Path | None = None) -> HandlerSpec:
    """Check the spec's shape (not its importability: that happens in the worker)."""
    target, sep, function = text.rpartition(":")
    if not sep or not target or not function:
        raise InputError(f"handler {text!r} is not MODULE:FUNCTION or FILE.py:FUNCTION", field=FIELD, fix=FIX)
    if not function.isidentifier():
        raise InputError(f"handler {text!r}: {function!r} is not a function name", field=FIELD, fix=FIX)
    if target.endswith(".py") or "/" in target or "\\" in target:
        path = Path(target)
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        path = path.resolve()
        if not path.is_file():
            raise InputError(f"handler {text!r}: file {str(path)!r} does not exist", field=FIELD, fix=FIX)
        return HandlerSpec(text=text, module=None, path=path, function=function)
    if not all(part.isidentifier() for part in target.split(".")):
        raise InputError(f"handler {text!r}: {target!r} is not a module name", field=FIELD, fix=FIX)
    return HandlerSpec(text=text, module=target, path=None, function=function)


def load_handler(spec: HandlerSpec) -> Callable[[Any, Any], Any]:
    """Import the handler as Lambda does at init; errors name the spec and what went wrong."""
    try:
        if spec.path is not None:
            # Lambda puts the function's own folder on sys.path, so sibling modules import.
            sys.path.insert(0, str(spec.path.parent))
            module_name = spec.path.stem
            module_spec = importlib.util.spec_from_file_location(module_name, spec.path)
            if module_spec is None or module_spec.loader is None:
                raise ImportError(f"cannot load {spec.path}")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[module_name] = module
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(spec.module or "")
    except Exception as exc:  # any import-time failure of user code is an init error
        raise InputError(
            f"handler {spec.text!r}: importing it failed: {type(exc).__name__}: {exc}", field=FIELD, fix=FIX
        ) from exc
    handler = getattr(module, spec.function, None)
    if not callable(handler):
        raise InputError(
            f"handler {spec.text!r}: the module has no function {spec.function!r}", field=FIELD, fix=FIX
        )
    return handler
