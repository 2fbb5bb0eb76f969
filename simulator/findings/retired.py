"""Retired finding types as catalog records, for the callers that opt in to them.

GuardDuty no longer produces a retired type, but responders still receive them: events replayed from
an archive, exports of old findings, rules written years ago. A scenario may therefore inject one, and
the finding factory makes one, only when explicitly asked (``allow_retired=True``).
"""

from __future__ import annotations

from simulator.catalog import SEVERITY_BANDS, FindingType, get_type, retired_types
from simulator.errors import InputError

# ResourceTypeAffected part of the name -> the usual resource.resourceType (retired.csv has no column for it)
_RESOURCE_TYPES = {"IAMUser": ("AccessKey",), "EC2": ("Instance",), "S3": ("S3Bucket",),
                   "Kubernetes": ("EKSCluster",)}


def is_retired(name: str) -> bool:
    return name in retired_types()


def retired_type(name: str) -> FindingType:
    """The record of a retired type, from its last known purpose, data source and severity."""
    row = retired_types().get(name)
    if row is None:
        get_type(name)  # active (or unknown): say so with the catalog's own words
        raise InputError(f"finding type {name!r} is not retired", field="type", fix="drop the retired opt-in")
    text = (row.get("last_known_severity") or "").strip()
    labels = tuple(label for label in text.rstrip("*").split("|") if label in SEVERITY_BANDS)
    family = name.split(":", 1)[1].split("/", 1)[0]
    return FindingType(
        name=name,
        threat_purpose=row["threat_purpose"],
        resource_types=_RESOURCE_TYPES.get(family, ()),
        data_source=row.get("last_known_data_source") or "",
        severity_labels=labels or ("Low", "Medium", "High"),
        severity_varies=text.endswith("*") or not labels,
        status="retired",
        resource_affected=family,
        protection_plan="",
    )


def finding_type(name: str, *, allow_retired: bool = False) -> FindingType:
    """An active type's record, or a retired type's when ``allow_retired`` (otherwise the catalog's error)."""
    if allow_retired and is_retired(name):
        return retired_type(name)
    return get_type(name)
