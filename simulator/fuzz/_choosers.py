"""One interface for the choices a variant makes, backed by random.Random or by hypothesis.

The mutations in _valid.py and _hostile.py only ask a Chooser; the seeded functions hand them a
RandomChooser, the strategies a DrawChooser, so hypothesis sees every choice and can shrink a failing
example down to the one mutation that matters.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

# Printable text from many scripts: accents, Greek, Cyrillic, CJK, Arabic (right-to-left), emoji.
_SAMPLE_UNICODE = ("é", "ü", "ñ", "ø", "ß", "Ω", "λ", "Ж", "я", "中", "文", "日", "本", "한", "글", "ع", "ر",
                   "ب", "🔥", "🚀", "✓", "—", "…", "€", "¥", "a", "b", "z", "0", "7", " ", "-", "_", ".")
_ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."


class Chooser(Protocol):
    def boolean(self, probability: float = 0.5) -> bool: ...

    def integer(self, low: int, high: int) -> int: ...  # inclusive

    def number(self, low: float, high: float) -> float: ...

    def choice(self, options: Sequence[T]) -> T: ...

    def text(self, *, min_size: int = 0, max_size: int = 32, unicode: bool = True) -> str: ...

    def seed(self) -> int: ...


class RandomChooser:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def boolean(self, probability: float = 0.5) -> bool:
        return self.rng.random() < probability

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def number(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def text(self, *, min_size: int = 0, max_size: int = 32, unicode: bool = True) -> str:
        size = self.rng.randint(min_size, max_size)
        alphabet: Sequence[str] = _SAMPLE_UNICODE if unicode else _ASCII
        return "".join(alphabet[self.rng.randrange(len(alphabet))] for _ in range(size)).strip() or "x" * min_size

    def seed(self) -> int:
        return self.rng.getrandbits(32)


class DrawChooser:
    """Choices drawn through hypothesis (inside an @composite)."""

    def __init__(self, draw: Callable[[Any], Any]) -> None:
        from hypothesis import strategies as st

        self.draw = draw
        self.st = st

    def boolean(self, probability: float = 0.5) -> bool:
        return bool(self.draw(self.st.booleans()))

    def integer(self, low: int, high: int) -> int:
        return int(self.draw(self.st.integers(low, high)))

    def number(self, low: float, high: float) -> float:
        return float(self.draw(self.st.floats(low, high, allow_nan=False, allow_infinity=False)))

    def choice(self, options: Sequence[T]) -> T:
        return self.draw(self.st.sampled_from(options))  # type: ignore[no-any-return]

    def text(self, *, min_size: int = 0, max_size: int = 32, unicode: bool = True) -> str:
        st = self.st
        alphabet = (st.characters(categories=("L", "M", "N", "P", "S", "Zs"), exclude_characters="\u2028\u2029")
                    if unicode else st.sampled_from(_ASCII))
        value = self.draw(st.text(alphabet=alphabet, min_size=min_size, max_size=max_size))
        return str(value).strip() or "x" * min_size

    def seed(self) -> int:
        return int(self.draw(self.st.integers(0, 2**32 - 1)))
