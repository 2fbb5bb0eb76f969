"""A storm's findings: generated one at a time, each bound to its copy of the resource, and kept as
compressed JSON, so the delivery plan of thousands of findings costs under a kilobyte per finding
instead of a dozen."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simulator.gateway.findings_store import JsonPacker

DETAIL = "detail"
_ALONE = JsonPacker(learn=False)


class CompactEnvelope(Mapping[str, Any]):
    """An EventBridge envelope whose ``detail`` (the finding) is kept compressed and decoded afresh on
    each read: every reader gets its own copy, as it would from a plain dict it then copies.

    Envelopes of one storm share a ``packer`` whose dictionary is their first finding.
    """

    __slots__ = ("_detail", "_header", "_packer", "finding_id")

    def __init__(self, envelope: Mapping[str, Any], packer: JsonPacker | None = None) -> None:
        detail = envelope.get(DETAIL)
        self._packer = packer or _ALONE
        # The header (id, time, resources...) as JSON text: a third of the room its objects would take.
        self._header = json.dumps({key: value for key, value in envelope.items() if key != DETAIL},
                                  separators=(",", ":")).encode()
        self._detail = self._packer.pack(detail)
        finding_id = detail.get("id") if isinstance(detail, Mapping) else None
        self.finding_id: str = finding_id if isinstance(finding_id, str) else ""

    def _fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = json.loads(self._header)
        return fields

    def __getitem__(self, key: str) -> Any:
        if key == DETAIL:
            return self._packer.unpack(self._detail)
        return self._fields()[key]

    def __copy__(self) -> CompactEnvelope:
        return self  # nothing in it changes

    def __deepcopy__(self, memo: dict[int, Any]) -> CompactEnvelope:
        return self

    def __iter__(self) -> Iterator[str]:
        yield from self._fields()
        yield DETAIL

    def __len__(self) -> int:
        return len(self._fields()) + 1

    def finding(self) -> dict[str, Any]:
        """A fresh copy of the finding."""
        detail: dict[str, Any] = self[DETAIL]
        return detail

    @property
    def size(self) -> int:
        """Bytes of the compressed finding."""
        return len(self._detail)


@dataclass(frozen=True)
class StormFindings:
    """The storm's findings in publication order; finding ``i`` is bound to resource copy ``i % copies``."""

    envelopes: list[CompactEnvelope]
    copies: int
    generate_ms_per_finding: float

    @property
    def ids(self) -> list[str]:
        return [envelope.finding_id for envelope in self.envelopes]

    def copy_of(self, index: int) -> int:
        return index % self.copies

    def __len__(self) -> int:
        return len(self.envelopes)


def generate_storm_findings(type_name: str, resources: Sequence[dict[str, Any]], count: int, *,
                            rng: random.Random, account_id: str, region: str,
                            severity: float | None = None) -> StormFindings:
    """``count`` findings of ``type_name`` spread round-robin over ``resources`` (descriptors of the copies),
    each wrapped in its event as GuardDuty publishes it; reproducible from ``rng``."""
    from simulator.findings import generate_finding, wrap_in_envelope

    if not resources:
        raise ValueError("a storm needs at least one resource to bind its findings to")
    started = time.perf_counter()
    envelopes = []
    packer = JsonPacker()
    for index in range(count):
        finding = generate_finding(type_name, rng=rng, account_id=account_id, region=region,
                                   resource=resources[index % len(resources)], severity=severity)
        envelopes.append(CompactEnvelope(wrap_in_envelope(finding, rng=rng), packer))
    elapsed_ms = (time.perf_counter() - started) * 1000
    return StormFindings(envelopes, len(resources), elapsed_ms / max(count, 1))
