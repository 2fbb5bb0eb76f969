"""The finding-type catalog: every GuardDuty finding type the harness knows, loaded from fixtures/findings/."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from simulator.errors import InputError
from simulator.paths import FINDINGS_FIXTURES_DIR

SEVERITY_BANDS: dict[str, tuple[float, float]] = {
    "Low": (1.0, 3.9),
    "Medium": (4.0, 6.9),
    "High": (7.0, 8.9),
    "Critical": (9.0, 10.0),
}

# ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact
_TYPE_GRAMMAR = re.compile(
    r"^(?P<purpose>[A-Za-z]+):(?P<resource>[A-Za-z0-9]+)/(?P<family>[^!/:]+?)(?:!(?P<artifact>[A-Za-z0-9]+))?$"
)


@dataclass(frozen=True)
class FindingType:
    """One row of the catalog, with the type name parsed into its grammar parts."""

    name: str
    threat_purpose: str
    resource_types: tuple[str, ...]
    data_source: str
    severity_labels: tuple[str, ...]
    severity_varies: bool
    status: str
    resource_affected: str
    protection_plan: str

    @property
    def resource_type(self) -> str:
        """The usual ``resource.resourceType`` (first listed); '' where AWS documents none."""
        return self.resource_types[0] if self.resource_types else ""

    @property
    def resource_family(self) -> str:
        """The type name's ResourceTypeAffected part: EC2, IAMUser, S3, Kubernetes, Runtime..."""
        return _parts(self.name)["resource"]

    @property
    def artifact(self) -> str:
        """The part after '!' (DNS, Custom...), or ''."""
        return _parts(self.name)["artifact"] or ""

    @property
    def severity_range(self) -> tuple[float, float]:
        """The inclusive numeric range a generated severity must fall in."""
        lows = [SEVERITY_BANDS[label][0] for label in self.severity_labels]
        highs = [SEVERITY_BANDS[label][1] for label in self.severity_labels]
        return min(lows), max(highs)


def _parts(name: str) -> dict[str, str]:
    match = _TYPE_GRAMMAR.match(name)
    if not match:
        raise ValueError(f"finding type {name!r} does not follow ThreatPurpose:Resource/Family[!Artifact]")
    return {key: value or "" for key, value in match.groupdict().items()}


def _severity(raw: str, purpose: str) -> tuple[tuple[str, ...], bool]:
    """Parse the catalog's severity column ('High', 'Low*', 'Low|High', 'Variable', 'unknown')."""
    text = raw.strip()
    varies = text.endswith("*") or text.startswith(("Var", "unknown")) or "|" in text
    labels = tuple(label for label in text.rstrip("*").split("|") if label in SEVERITY_BANDS)
    if not labels:
        # Undocumented or detail-dependent: GuardDuty uses the whole Low..High scale; Critical is
        # reserved for attack sequences.
        labels = ("Critical",) if purpose == "AttackSequence" else ("Low", "Medium", "High")
    return labels, varies


def load_catalog_file(path: Path) -> dict[str, FindingType]:
    types: dict[str, FindingType] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for line_no, row in enumerate(csv.DictReader(handle), start=2):
            try:
                _parts(row["type"])
            except ValueError as exc:
                raise InputError(str(exc), location=f"{path}:{line_no}", field="type") from None
            labels, varies = _severity(row["severity"], row["threat_purpose"])
            types[row["type"]] = FindingType(
                name=row["type"],
                threat_purpose=row["threat_purpose"],
                resource_types=tuple(filter(None, row["resource_type"].split("|"))),
                data_source=row["data_source"],
                severity_labels=labels,
                severity_varies=varies,
                status=row.get("status") or "active",
                resource_affected=row.get("resource_affected", ""),
                protection_plan=row.get("protection_plan", ""),
            )
    return types


@cache
def active_types() -> dict[str, FindingType]:
    """Every active finding type, by name."""
    return load_catalog_file(FINDINGS_FIXTURES_DIR / "catalog.csv")


@cache
def retired_types() -> dict[str, dict[str, str]]:
    """Retired types: a responder may still receive them; the factory only makes them when asked."""
    with (FINDINGS_FIXTURES_DIR / "retired.csv").open(newline="", encoding="utf-8") as handle:
        return {row["type"]: row for row in csv.DictReader(handle)}


@cache
def threat_purposes() -> dict[str, dict[str, str]]:
    with (FINDINGS_FIXTURES_DIR / "threat_purposes.csv").open(newline="", encoding="utf-8") as handle:
        return {row["threat_purpose"]: row for row in csv.DictReader(handle)}


def get_type(name: str) -> FindingType:
    """Look a type up, with a helpful error for unknown or retired names."""
    catalog = active_types()
    if name in catalog:
        return catalog[name]
    if name in retired_types():
        raise InputError(f"finding type {name!r} is retired", field="type",
                         fix="pick an active type; `simulate list types` shows them")
    close = [known for known in catalog if known.lower() == name.lower()]
    hint = f"did you mean {close[0]!r}?" if close else "`simulate list types` shows the known types"
    raise InputError(f"unknown finding type {name!r}", field="type", fix=hint)


def types_for_purpose(purpose: str) -> list[FindingType]:
    matches = [t for t in active_types().values() if t.threat_purpose.lower() == purpose.lower()]
    if not matches:
        raise InputError(f"unknown threat purpose {purpose!r}", field="purpose",
                         fix="`simulate list purposes` shows the known purposes")
    return matches
