"""The project's own YAML files (scenarios, chaos profiles): named from their folder or given by path, read,
parsed with the line of every node, and listed together with every file's problems reported at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from simulator.errors import InputError

if TYPE_CHECKING:
    from simulator.scenario.loader import Located

# The scenario package's own files import this module, so what it takes from that package is imported when used.

SUFFIXES = (".yaml", ".yml")

T = TypeVar("T")


@dataclass(frozen=True)
class FileKind:
    """One format of YAML file: where its built-in files live and how messages name it."""

    noun: str  # "unknown chaos profile 'x'", "chaos profile file 'x' does not exist"
    short_noun: str  # "give a path to a YAML file or a profile name", "no profiles found in ..."
    read_noun: str  # "cannot read the chaos profile: ..."
    option: str  # the command-line option that names one
    folder: Callable[[], Path]  # read when asked, so a project home set by a test applies
    # Its error made of located lines, built as ``error(lines, location=file)`` (e.g. ScenarioError).
    error: Callable[..., InputError]

    def files(self) -> list[Path]:
        """The built-in files of this kind, by path."""
        folder = self.folder()
        if not folder.is_dir():
            return []
        return sorted(path for path in folder.iterdir() if path.suffix in SUFFIXES and path.is_file())

    def names(self) -> list[str]:
        return [path.stem for path in self.files()]

    def locate(self, name_or_path: str | Path) -> Path:
        """A built-in file by name (``FOLDER/NAME.yaml``) or a file by path; an InputError naming the option."""
        text = str(name_or_path)
        if isinstance(name_or_path, Path) or text.endswith(SUFFIXES) or "/" in text or "\\" in text:
            path = Path(text).expanduser()
            if not path.is_file():
                raise InputError(f"{self.noun} file {text!r} does not exist", field=self.option,
                                 fix=f"give a path to a YAML file or a {self.short_noun} name")
            return path
        for suffix in SUFFIXES:
            candidate = self.folder() / f"{text}{suffix}"
            if candidate.is_file():
                return candidate
        names = self.names()
        known = f"known: {', '.join(names)}" if names else f"no {self.short_noun}s found in {self.folder()}"
        raise InputError(f"unknown {self.noun} {text!r}", field=self.option, fix=known)

    def load(self, name_or_path: str | Path, parse: Callable[[str, Path], T]) -> T:
        """``parse(text, path)`` of the file ``name_or_path`` names (see ``locate``)."""
        path = self.locate(name_or_path)
        return parse(self.read(path), path)

    def read(self, path: Path) -> str:
        from simulator.scenario.issues import display_path

        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read the {self.read_noun}: {exc.strerror}", location=display_path(path)) from None

    def in_folder(self, path: Path) -> bool:
        """Whether ``path`` is a built-in file, run by its file name (so its own name must be that name)."""
        return path.resolve().parent == self.folder().resolve()

    def parse(self, text: str, shown: str) -> Located:
        """``text`` parsed with the line of every node; the kind's error with one located line if not YAML."""
        from simulator.scenario.loader import YamlSyntaxError, load_located

        try:
            return load_located(text)
        except YamlSyntaxError as exc:
            raise self.error([f"{shown}:{exc.line}: not valid YAML: {exc.message} (fix the syntax)"],
                             location=shown) from None

    def load_all(self, load: Callable[[Path], T]) -> list[T]:
        """``load`` of every built-in file; the problems of all of them raised together as the kind's error."""
        loaded: list[T] = []
        lines: list[str] = []
        for path in self.files():
            try:
                loaded.append(load(path))
            except InputError as exc:
                lines += getattr(exc, "lines", None) or [str(exc)]
        if lines:
            raise self.error(lines)
        return loaded
