"""YAML to plain data, remembering the line of every node so errors can point at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

NodePath = tuple[str | int, ...]

_KEYS = yaml.constructor.SafeConstructor()


@dataclass
class Located:
    """A YAML document as plain data plus ``lines[path] = 1-based line`` for every key and item."""

    data: Any
    lines: dict[NodePath, int] = field(default_factory=dict)
    duplicate_keys: list[tuple[NodePath, int, int]] = field(default_factory=list)  # path, line, first line

    def line_of(self, path: NodePath) -> int:
        """The line of ``path`` or of its nearest ancestor that exists in the file."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line is not None:
                return line
        return 1


class YamlSyntaxError(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def load_located(text: str) -> Located:
    """Parse one YAML document; raises YamlSyntaxError with the line of the problem."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(data=None)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntaxError(f"{exc.problem or exc.context or 'invalid YAML'}", line) from None
    finally:
        loader.dispose()
    located = Located(data=data)
    _record(node, data, (), located)
    return located


def _record(node: yaml.Node, data: Any, path: NodePath, located: Located) -> None:
    located.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode) and isinstance(data, dict):
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = _scalar_key(key_node)
            if key is None or key not in data:
                continue
            line = key_node.start_mark.line + 1
            if key in first_seen:
                located.duplicate_keys.append(((*path, key), line, first_seen[key]))
            else:
                first_seen[key] = line
            located.lines[(*path, key)] = line
            _record(value_node, data[key], (*path, key), located)
    elif isinstance(node, yaml.SequenceNode) and isinstance(data, list):
        for index, (item_node, item) in enumerate(zip(node.value, data, strict=False)):
            located.lines[(*path, index)] = item_node.start_mark.line + 1
            _record(item_node, item, (*path, index), located)


def _scalar_key(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return None
    # The same resolution the document's constructor applied (so `on:` is True, `1:` is 1).
    return _KEYS.construct_object(node)


def read_located(path: Path) -> Located:
    return load_located(path.read_text(encoding="utf-8"))
