"""The shared handling of the project's YAML files, on a kind of file of its own (neither scenarios nor profiles)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from simulator.errors import InputError
from simulator.yamlfiles import FileKind


class WidgetError(InputError):
    def __init__(self, lines: Sequence[str], *, location: str = "") -> None:
        self.lines = list(lines)
        super().__init__("\n".join(self.lines))
        self.location = location


def kind(folder: Path) -> FileKind:
    return FileKind(noun="widget spec", short_noun="widget", read_noun="widget spec file", option="--widget",
                    folder=lambda: folder, error=WidgetError)


def test_built_in_files_are_the_yaml_files_of_the_folder_by_name(tmp_path: Path) -> None:
    for name in ("b.yml", "a.yaml", "notes.md"):
        (tmp_path / name).write_text("x: 1\n")
    (tmp_path / "folder.yaml").mkdir()
    widgets = kind(tmp_path)
    assert widgets.files() == [tmp_path / "a.yaml", tmp_path / "b.yml"]
    assert widgets.names() == ["a", "b"]
    assert widgets.locate("b") == tmp_path / "b.yml"
    assert widgets.in_folder(tmp_path / "a.yaml") and not widgets.in_folder(tmp_path / "sub" / "a.yaml")
    assert kind(tmp_path / "missing").files() == []


def test_an_unknown_name_lists_the_known_ones_or_where_none_were_found(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("x: 1\n")
    with pytest.raises(InputError) as known:
        kind(tmp_path).locate("nope")
    assert str(known.value) == "--widget: unknown widget spec 'nope' (known: a)"
    with pytest.raises(InputError) as none:
        kind(tmp_path / "empty").locate("nope")
    assert str(none.value) == f"--widget: unknown widget spec 'nope' (no widgets found in {tmp_path / 'empty'})"


def test_a_path_must_name_an_existing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        kind(tmp_path).locate(str(tmp_path / "gone.yaml"))
    assert raised.value.field == "--widget"
    assert "widget spec file" in str(raised.value) and "does not exist" in str(raised.value)
    assert "give a path to a YAML file or a widget name" in str(raised.value)


def test_an_unreadable_file_is_an_input_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the widget spec file: Is a directory"):
        kind(tmp_path).read(tmp_path)


def test_yaml_is_parsed_with_lines_and_a_syntax_error_is_one_located_line(tmp_path: Path) -> None:
    located = kind(tmp_path).parse("a: 1\nb:\n  c: 2\n", "w.yaml")
    assert located.data == {"a": 1, "b": {"c": 2}}
    assert located.line_of(("b", "c")) == 3
    with pytest.raises(WidgetError) as raised:
        kind(tmp_path).parse("a: 1\nb: [\n", "w.yaml")
    assert raised.value.location == "w.yaml"
    assert len(raised.value.lines) == 1
    assert raised.value.lines[0].startswith("w.yaml:") and "not valid YAML" in raised.value.lines[0]
    assert raised.value.lines[0].endswith("(fix the syntax)")


def test_loading_every_file_reports_the_problems_of_all_of_them(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.yaml").write_text(f"name: {name}\n")

    def load(path: Path) -> str:
        if path.stem == "a":
            raise WidgetError([f"{path.name}:1: first", f"{path.name}:2: second"])
        if path.stem == "b":
            raise InputError("plain problem", location=path.name)
        return path.stem

    with pytest.raises(WidgetError) as raised:
        kind(tmp_path).load_all(load)
    assert raised.value.lines == ["a.yaml:1: first", "a.yaml:2: second", "b.yaml: plain problem"]
    assert kind(tmp_path).load_all(lambda path: path.stem) == ["a", "b", "c"]
    assert kind(tmp_path).load("c", lambda text, path: (text, path.name)) == ("name: c\n", "c.yaml")
