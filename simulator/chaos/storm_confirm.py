"""Confirming a storm's effects with the observers, a chunk of findings at a time.

The chosen findings' observers are built per chunk, share one batched read of the sandbox for the
whole chunk (see :func:`simulator.observers.ec2.share_reads`), are checked, and are dropped; only a
byte per (finding, step) and the reasons for what did not hold are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

# Findings whose observers are alive at once.
CHUNK = 200
NOT_CHECKED, HELD, NOT_HELD, UNANSWERED = 0, 1, 2, 3


@dataclass
class Confirmations:
    """What the observers said, per step position and finding index."""

    codes: list[bytearray]
    details: dict[tuple[int, int], str] = field(default_factory=dict)  # (index, position) -> why not held
    checks: int = 0

    @classmethod
    def empty(cls, steps: int, findings: int) -> Confirmations:
        return cls([bytearray(findings) for _ in range(steps)])

    def get(self, index: int, position: int) -> tuple[bool, bool | None, str | None]:
        """(checked, held: True/False, or None when the sandbox could not answer, why not held)."""
        code = self.codes[position][index]
        held = {HELD: True, NOT_HELD: False}.get(code)
        return code != NOT_CHECKED, held, self.details.get((index, position))


def _held(observer: Any, sandbox: Any) -> bool | None:
    """One observer check; None when the sandbox could not answer it (the journal's evidence then stands)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return bool(observer.check(sandbox))
    except (ClientError, BotoCoreError) as error:
        observer.detail = f"check failed: {error}"
        return None


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def confirm_effects(sandbox: Any, chosen: Mapping[int, Sequence[str]], *,
                    build: Callable[[int, Sequence[str]], Mapping[str, Any]],
                    injected_wall: Callable[[int], float], witness: Any, step_ids: Sequence[str],
                    findings: int, workers: int = 2, chunk: int = CHUNK) -> Confirmations:
    """Check the steps ``chosen`` (finding index -> step ids) with observers from ``build(index, steps)``.

    ``witness`` is the journal observers of read-only effects read; ``injected_wall(index)`` the wall time
    finding ``index`` was published.
    """
    from simulator.observers.ec2 import share_reads

    positions = {step_id: position for position, step_id in enumerate(step_ids)}
    result = Confirmations.empty(len(step_ids), findings)
    with ThreadPoolExecutor(workers, thread_name_prefix="storm-confirm") as pool:
        for indexes in _chunks(sorted(chosen), chunk):
            keyed: list[tuple[int, int, Any]] = []
            for index in indexes:
                for step_id, observer in build(index, chosen[index]).items():
                    observer.injected_wall = injected_wall(index)
                    observer.journal = witness
                    keyed.append((index, positions[step_id], observer))
            share_reads(observer for _, _, observer in keyed)
            answers = pool.map(lambda item: _held(item[2], sandbox), keyed)
            for (index, position, observer), held in zip(keyed, answers, strict=True):
                result.codes[position][index] = UNANSWERED if held is None else HELD if held else NOT_HELD
                if not held and observer.detail:
                    result.details[(index, position)] = observer.detail
                result.checks += 1
    return result
