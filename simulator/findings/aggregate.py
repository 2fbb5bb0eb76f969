"""GuardDuty finding aggregation: a later occurrence updates the same finding instead of creating one.

Per the GuardDuty User Guide: the id and ARN stay, ``service.count`` goes up, ``updatedAt`` and
``service.eventLastSeen`` move forward, ``createdAt`` and ``service.eventFirstSeen`` stay, and the details
are overwritten by the latest occurrence (for example a new remote address in a brute-force finding).
"""

from __future__ import annotations

import contextlib
import copy
import random
from datetime import datetime
from functools import lru_cache

from simulator.catalog import SEVERITY_BANDS, active_types
from simulator.errors import InputError
from simulator.findings import ids
from simulator.findings.clock import iso_ms, parse_iso, to_ms
from simulator.findings.factory import FindingFactory
from simulator.findings.occurrences import Occurrence
from simulator.findings.recipes import recipe_for
from simulator.findings.values import between

# The default publishing frequency is six hours; updates land anywhere up to that after the last one.
_MAX_GAP_MS = 6 * 3_600_000
# Details an occurrence owns; everything else (resource, ids, creation times) belongs to the finding.
_OCCURRENCE_KEYS = ("action", "evidence", "runtimeDetails", "ebsVolumeScanDetails", "detection",
                    "malwareScanDetails")


@lru_cache(maxsize=64)
def _factory(account: str, region: str, detector: str) -> FindingFactory:
    return FindingFactory(account_id=account, region=region, detector_id=detector)


def aggregate_update(finding: dict, *, rng: random.Random, occurrences: int = 1,
                     at: datetime | None = None) -> dict:
    """A copy of ``finding`` as GuardDuty reports it after ``occurrences`` more occurrences, the last at ``at``."""
    if isinstance(occurrences, bool) or not isinstance(occurrences, int) or occurrences < 1:
        raise InputError(f"occurrences must be a whole number of at least 1, got {occurrences!r}",
                         field="occurrences")
    updated = copy.deepcopy(finding)
    service = updated.setdefault("service", {})
    try:
        previous_ms = parse_iso(updated["updatedAt"])
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InputError("the finding has no readable updatedAt", field="updatedAt",
                         fix="aggregate a finding made by generate_finding or returned by GetFindings") from None
    at_ms = to_ms(at) if at is not None else previous_ms + between(rng, 60_000, _MAX_GAP_MS)
    if at_ms < previous_ms:
        raise InputError(f"update time {iso_ms(at_ms)} is before the finding's updatedAt {updated['updatedAt']}",
                         field="at", fix="an update moves updatedAt forward")
    _overwrite_details(updated, rng, at_ms)
    last_seen = at_ms - between(rng, 1_000, 120_000)
    last_seen -= last_seen % 1000
    with contextlib.suppress(TypeError, ValueError):
        last_seen = max(last_seen, parse_iso(service.get("eventLastSeen", "")))
    service["count"] = int(service.get("count") or 1) + occurrences
    service["eventLastSeen"] = iso_ms(min(last_seen, at_ms))
    updated["updatedAt"] = iso_ms(at_ms)
    return updated


def _fits(occ: Occurrence, role: str, severity: object) -> bool:
    if role and occ.role != role:
        return False
    if occ.label and isinstance(severity, int | float):
        low, high = SEVERITY_BANDS[occ.label]
        return low <= severity <= high
    return True


def _overwrite_details(finding: dict, rng: random.Random, at_ms: int) -> None:
    type_name = finding.get("type")
    account, region = finding.get("accountId"), finding.get("region")
    service = finding["service"]
    detector = service.get("detectorId")
    resource = finding.get("resource")
    if (type_name not in active_types() or not isinstance(resource, dict) or not isinstance(detector, str)
            or not isinstance(account, str) or not ids.ACCOUNT_ID.match(account)
            or not isinstance(region, str) or not ids.REGION.match(region)):
        return  # not ours to describe (retired, unknown or malformed): only the counters move
    factory = _factory(account, region, detector)
    recipe = recipe_for(type_name)
    role = service.get("resourceRole", "")
    rule = finding.get("customDetectionRuleName")
    occ = None
    # The same finding keeps its direction, severity band and rule: redraw until the occurrence agrees.
    for _ in range(64):
        occ = factory.new_occurrence(recipe, resource, rng, at_ms)
        if _fits(occ, role, finding.get("severity")) and (not rule or occ.custom_rule == rule):
            break
    assert occ is not None
    fresh = factory.service(occ, count=1, first_seen=at_ms, last_seen=at_ms, sample=_sample_flag(service))
    for key in _OCCURRENCE_KEYS:
        if key in fresh:
            service[key] = fresh[key]
        else:
            service.pop(key, None)
    service["additionalInfo"] = fresh["additionalInfo"]
    if occ.title:
        finding["title"] = occ.title
        finding["description"] = occ.description


def _sample_flag(service: dict) -> bool:
    info = service.get("additionalInfo")
    return bool(info.get("sample")) if isinstance(info, dict) else False
