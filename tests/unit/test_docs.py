from __future__ import annotations

from simulator.docs import kinds_table, stale_docs
from simulator.observers import registered_kinds


def test_generated_docs_are_current() -> None:
    assert stale_docs() == [], "run `python -m simulator.docs` and commit the result"


def test_every_registered_kind_is_documented() -> None:
    table = kinds_table()
    for kind in registered_kinds():
        assert f"| `{kind}` |" in table
