"""The GuardDuty findings the harness injected, with the state GuardDuty keeps on them (archived, feedback).

Findings are kept in their wire form (camelCase, as GetFindings returns them), as objects or, in a
compact store, as compressed JSON decoded on each read (a storm of thousands of findings then costs about
a kilobyte each). The store knows nothing of HTTP; :mod:`simulator.gateway.guardduty_api` serves it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# FindingCriteria condition operators; the long names are the newer spelling of the same tests.
_EQUAL = ("eq", "equals")
_NOT_EQUAL = ("neq", "notEquals")
_ORDER = {
    "gt": lambda value, bound: value > bound,
    "greaterThan": lambda value, bound: value > bound,
    "gte": lambda value, bound: value >= bound,
    "greaterThanOrEqual": lambda value, bound: value >= bound,
    "lt": lambda value, bound: value < bound,
    "lessThan": lambda value, bound: value < bound,
    "lte": lambda value, bound: value <= bound,
    "lessThanOrEqual": lambda value, bound: value <= bound,
}
KNOWN_OPERATORS = frozenset((*_EQUAL, *_NOT_EQUAL, *_ORDER))


class CriteriaError(ValueError):
    """A FindingCriteria the API would refuse (GuardDuty answers BadRequestException)."""


@dataclass(frozen=True)
class FeedbackRecord:
    finding_ids: tuple[str, ...]
    feedback: str
    comments: str | None
    wall: float


def default_detector_id(account_id: str, region: str) -> str:
    """A stable 32-hex detector id per account and region, shaped like GuardDuty's."""
    return hashlib.md5(f"gdsim:{account_id}:{region}".encode(), usedforsecurity=False).hexdigest()


class JsonPacker:
    """JSON values as compressed bytes. With ``learn``, the first value packed becomes the compressor's
    dictionary: findings share most of their text, so the others then take a third of the room."""

    def __init__(self, *, learn: bool = True) -> None:
        self._learn = learn
        self._dictionary: bytes | None = None
        self._lock = threading.Lock()

    def pack(self, value: Any) -> bytes:
        """Raises TypeError or ValueError for what is not plain JSON."""
        text = json.dumps(value, separators=(",", ":"), allow_nan=False).encode()
        with self._lock:
            if self._learn and self._dictionary is None:
                self._dictionary = text
            dictionary = self._dictionary
        compressor = zlib.compressobj(6, zdict=dictionary) if dictionary else zlib.compressobj(6)
        return compressor.compress(text) + compressor.flush()

    def unpack(self, packed: bytes) -> Any:
        dictionary = self._dictionary
        decompressor = zlib.decompressobj(zdict=dictionary) if dictionary else zlib.decompressobj()
        return json.loads(decompressor.decompress(packed) + decompressor.flush())


def _detector_named(finding: Mapping[str, Any]) -> str | None:
    service = finding.get("service")
    detector = service.get("detectorId") if isinstance(service, Mapping) else None
    return detector if isinstance(detector, str) and detector else None


class FindingsStore:
    """Thread-safe store of findings by id, in insertion order.

    ``compact=True`` keeps each finding as compressed JSON: reads decode it (a ListFindings decodes every
    finding of the detector), in exchange for memory that barely grows with the number of findings.
    """

    def __init__(self, *, account_id: str = "123456789012", region: str = "us-east-1",
                 detector_id: str | None = None, compact: bool = False) -> None:
        self.account_id = account_id
        self.region = region
        self._explicit_detector = detector_id
        self._lock = threading.Lock()
        self._findings: dict[str, Any] = {}  # id -> finding (dict), or its packed form in a compact store
        self._detectors: dict[str, str | None] = {}  # id -> the detector the finding names, same order
        self._feedback: list[FeedbackRecord] = []
        self._compact = compact
        self._packer = JsonPacker()

    @property
    def compact(self) -> bool:
        return self._compact

    @compact.setter
    def compact(self, value: bool) -> None:
        """Switch forms; the findings already stored are converted."""
        with self._lock:
            if value == self._compact:
                return
            self._compact = value
            for finding_id, stored in self._findings.items():
                self._findings[finding_id] = self._pack(stored) if value else self._unpack(stored)

    def _pack(self, finding: dict[str, Any]) -> bytes | dict[str, Any]:
        """The compact form of a wire-form finding; the finding itself (copied) if it is not plain JSON."""
        try:
            return self._packer.pack(finding)
        except (TypeError, ValueError):
            return copy.deepcopy(finding)

    def _unpack(self, stored: bytes | dict[str, Any]) -> dict[str, Any]:
        """A fresh copy of a stored finding, whichever its form."""
        if isinstance(stored, bytes):
            loaded: dict[str, Any] = self._packer.unpack(stored)
            return loaded
        return copy.deepcopy(stored)

    def _load(self, finding_id: str) -> dict[str, Any] | None:
        # Called with the lock held: the stored finding as an object (a fresh one in a compact store).
        stored = self._findings.get(finding_id)
        if stored is None or isinstance(stored, dict):
            return stored
        return self._unpack(stored)

    def _put(self, finding_id: str, finding: dict[str, Any]) -> None:
        # Called with the lock held.
        self._findings[finding_id] = self._pack(finding) if self._compact else finding
        self._detectors[finding_id] = _detector_named(finding)


    # -- writing -----------------------------------------------------------------------------------------

    def add(self, finding: Mapping[str, Any]) -> dict[str, Any]:
        """Store a copy of ``finding`` (an update of the same id replaces it, as GuardDuty aggregates)."""
        finding_id = finding.get("id")
        if not isinstance(finding_id, str) or not finding_id:
            raise ValueError("a finding needs a non-empty string 'id' (wire form, as GetFindings returns it)")
        stored = copy.deepcopy(dict(finding))
        with self._lock:
            previous = self._load(finding_id)
            if previous is not None:
                # Aggregation keeps what the user did to the finding.
                for key in ("archived", "userFeedback"):
                    if key in previous.get("service", {}):
                        stored.setdefault("service", {})[key] = previous["service"][key]
            self._put(finding_id, stored)
        return copy.deepcopy(stored)

    def archive(self, finding_ids: Iterable[str], *, archived: bool = True) -> list[str]:
        """Mark findings (un)archived; returns the ids that exist (unknown ids are ignored, as the API does)."""
        changed = []
        with self._lock:
            for finding_id in finding_ids:
                finding = self._load(finding_id)
                if finding is not None:
                    finding.setdefault("service", {})["archived"] = archived
                    self._put(finding_id, finding)
                    changed.append(finding_id)
        return changed

    def unarchive(self, finding_ids: Iterable[str]) -> list[str]:
        return self.archive(finding_ids, archived=False)

    def record_feedback(self, finding_ids: Iterable[str], feedback: str, comments: str | None = None) -> None:
        ids = tuple(finding_ids)
        with self._lock:
            for finding_id in ids:
                finding = self._load(finding_id)
                if finding is not None:
                    finding.setdefault("service", {})["userFeedback"] = feedback
                    self._put(finding_id, finding)
            self._feedback.append(FeedbackRecord(ids, feedback, comments, time.time()))

    # -- reading -----------------------------------------------------------------------------------------

    @property
    def feedback(self) -> list[FeedbackRecord]:
        with self._lock:
            return list(self._feedback)

    @property
    def detector_id(self) -> str:
        """The account's detector: the one given, else the first one a finding names, else a stable default."""
        if self._explicit_detector:
            return self._explicit_detector
        with self._lock:
            named = self._named_detectors()
        return named[0] if named else default_detector_id(self.account_id, self.region)

    @property
    def detector_ids(self) -> list[str]:
        """The account's detector, then any other detector an added finding names (normally none)."""
        with self._lock:
            named = self._named_detectors()
        found = dict.fromkeys([self._explicit_detector] if self._explicit_detector else [])
        found.update(dict.fromkeys(named))
        return list(found) or [default_detector_id(self.account_id, self.region)]

    def _named_detectors(self) -> list[str]:
        # Called with the lock held; read from the index kept on writes, so no finding is decoded.
        return list(dict.fromkeys(detector for detector in self._detectors.values() if detector))

    def get(self, finding_ids: Iterable[str], *, detector_id: str | None = None) -> list[dict[str, Any]]:
        """Copies of the findings with these ids, in the order asked; unknown ids are left out."""
        with self._lock:
            fallback = self._fallback_detector()
            wanted = [finding_id for finding_id in finding_ids if finding_id in self._findings and (
                detector_id is None or (self._detectors[finding_id] or fallback) == detector_id)]
            return [self._unpack(self._findings[finding_id]) for finding_id in wanted]

    def is_archived(self, finding_id: str) -> bool:
        with self._lock:
            finding = self._load(finding_id)
            return bool(finding and finding.get("service", {}).get("archived"))

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._unpack(stored) for stored in self._findings.values()]

    def __len__(self) -> int:
        with self._lock:
            return len(self._findings)

    def find(self, criteria: Mapping[str, Any] | None = None, *, detector_id: str | None = None,
             sort: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Findings matching a wire-form FindingCriteria (``{"criterion": {"type": {"eq": [...]}}}``)."""
        criterion = _criterion(criteria)
        with self._lock:
            fallback = self._fallback_detector()
            candidates = [
                stored for finding_id, stored in self._findings.items()
                if detector_id is None or (self._detectors[finding_id] or fallback) == detector_id
            ]
            # A compact store decodes each candidate once; the decoded copy is the caller's to keep.
            loaded = [(stored, stored if isinstance(stored, dict) else self._unpack(stored)) for stored in candidates]
            selected = [finding if stored is not finding else copy.deepcopy(finding) for stored, finding in loaded
                        if all(_holds(field_values(finding, name), condition) for name, condition in criterion.items())]
        if sort and sort.get("attributeName"):
            attribute = str(sort["attributeName"])
            descending = str(sort.get("orderBy", "ASC")).upper() == "DESC"
            selected.sort(key=lambda finding: _sort_key(field_values(finding, attribute)), reverse=descending)
        return selected

    def _fallback_detector(self) -> str:
        # Called with the lock held: the detector a finding without detectorId belongs to.
        if self._explicit_detector:
            return self._explicit_detector
        named = self._named_detectors()
        return named[0] if named else default_detector_id(self.account_id, self.region)


def _criterion(criteria: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    if not criteria:
        return {}
    criterion = criteria.get("criterion", {})
    if not isinstance(criterion, Mapping):
        raise CriteriaError("findingCriteria.criterion must be an object")
    for name, condition in criterion.items():
        if not isinstance(condition, Mapping) or not condition:
            raise CriteriaError(f"findingCriteria.criterion.{name} must be a non-empty condition object")
        unknown = set(condition) - KNOWN_OPERATORS
        if unknown:
            raise CriteriaError(f"findingCriteria.criterion.{name}: unknown operator {sorted(unknown)[0]!r}")
    return dict(criterion)


def field_values(finding: Mapping[str, Any], dotted: str) -> list[Any]:
    """Values at a dotted path (``resource.instanceDetails.instanceId``); lists on the way are fanned out."""
    values: list[Any] = [finding]
    for part in dotted.split("."):
        following: list[Any] = []
        for value in values:
            if isinstance(value, list):
                following.extend(item.get(part) for item in value if isinstance(item, Mapping) and part in item)
            elif isinstance(value, Mapping) and part in value:
                following.append(value[part])
        values = following
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return [value for value in flat if value is not None]


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            # Timestamps compare as epoch milliseconds, the unit FindingCriteria uses for them.
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000
        except ValueError:
            return None
    return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _same(value: Any, wanted: Any) -> bool:
    if _text(value) == _text(wanted):
        return True
    left, right = _as_number(value), _as_number(wanted)
    return left is not None and right is not None and left == right


def _holds(values: list[Any], condition: Mapping[str, Any]) -> bool:
    # An absent boolean reads as false, the way GuardDuty treats service.archived on a new finding.
    for operator, operand in condition.items():
        wanted = operand if isinstance(operand, list) else [operand]
        boolean = any(_text(item) in ("true", "false") for item in wanted)
        present = (values or [False]) if boolean else values
        if operator in _EQUAL:
            if not any(_same(value, item) for value in present for item in wanted):
                return False
        elif operator in _NOT_EQUAL:
            if any(_same(value, item) for value in present for item in wanted):
                return False
        else:
            bound = _as_number(operand)
            numbers = [number for number in map(_as_number, values) if number is not None]
            if bound is None or not any(_ORDER[operator](number, bound) for number in numbers):
                return False
    return True


def _sort_key(values: list[Any]) -> tuple[int, float, str]:
    if not values:
        return (1, 0.0, "")
    number = _as_number(values[0])
    return (0, number, "") if number is not None else (0, 0.0, _text(values[0]))
