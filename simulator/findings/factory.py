"""The finding factory: schema 2.0 GuardDuty findings in wire form, coherent per type, fast and seeded.

Speed comes from doing expensive work once: names are drawn from Faker once per pool seed (pools.py),
the synthetic fleet is built once per day (fleet.py), and each fleet resource section is serialised once
and reused. A finding line is the per-finding parts (ids, timestamps, action, texts) joined around that
cached section; the dict API parses the line, so both forms are byte-for-byte the same finding.
"""

from __future__ import annotations

import json
import random
from datetime import datetime
from functools import lru_cache

from simulator.catalog import SEVERITY_BANDS
from simulator.errors import InputError
from simulator.findings import ids
from simulator.findings.actions import Context
from simulator.findings.binding import bind_descriptor, fill_from_fleet, fleet_binding
from simulator.findings.clock import iso_ms, now_ms, to_ms
from simulator.findings.fleet import Fleet
from simulator.findings.occurrences import Occurrence, occurrence
from simulator.findings.pools import pools_for
from simulator.findings.recipes import Recipe, recipe_for
from simulator.findings.sections import SectionBuilder, summarize
from simulator.findings.values import below, between
from simulator.findings.wire import dumps

DAY_MS = 86_400_000
POOL_SETS = 8  # generate_finding spreads over this many Faker pool seeds
DEFAULT_SEVERITY = {"Low": 2.0, "Medium": 5.0, "High": 8.0, "Critical": 9.0}
_SECTION_CACHE_LIMIT = 4096

_dumps = dumps


def check_account(account_id: str) -> str:
    if not isinstance(account_id, str) or not ids.ACCOUNT_ID.match(account_id):
        raise InputError(f"account id {account_id!r} is not 12 digits", field="account_id",
                         fix="use a 12-digit AWS account id such as 123456789012")
    return account_id


def check_region(region: str) -> str:
    if not isinstance(region, str) or not ids.REGION.match(region):
        raise InputError(f"region {region!r} is not an AWS region name", field="region",
                         fix="use a region such as us-east-1")
    return region


def severity_value(label: str, rng: random.Random) -> float:
    """Most findings carry the band's usual value; some a decimal inside the band, as GuardDuty's do."""
    if rng.random() < 0.8:
        return DEFAULT_SEVERITY[label]
    low, high = SEVERITY_BANDS[label]
    return round(low + rng.random() * (high - low), 1)


def timeline(rng: random.Random, updated_ms: int) -> tuple[int, int, int, int, int]:
    """(count, createdAt, updatedAt, eventFirstSeen, eventLastSeen) with first <= last <= updated and
    first <= created <= updated; event times are whole seconds as GuardDuty reports them."""
    count = 1 if rng.random() < 0.6 else 2 + below(rng, 5)
    last_seen = updated_ms - between(rng, 5_000, 240_000)
    last_seen -= last_seen % 1000
    if count == 1:
        return count, updated_ms, updated_ms, last_seen, last_seen
    first_seen = last_seen - between(rng, 1, 300) * 1000
    created = min(updated_ms, first_seen + between(rng, 30_000, 300_000))
    return count, created, updated_ms, first_seen, last_seen


class FindingFactory:
    """Findings for one account and region, with names drawn from one Faker pool seed."""

    def __init__(self, *, account_id: str = "123456789012", region: str = "us-east-1", pool_seed: int = 0,
                 detector_id: str | None = None) -> None:
        self.account = check_account(account_id)
        self.region = check_region(region)
        self.partition = ids.partition_of(region)
        self.detector = detector_id or ids.detector_id(account_id, region)
        self.pool_seed = pool_seed
        self.pools = pools_for(pool_seed)
        self.ctx = Context(self.pools, self.account, self.region, self.partition)
        self._fleets: dict[int, tuple[Fleet, SectionBuilder]] = {}
        self._sections: dict[tuple, tuple[dict, str, dict[str, str], dict[str, dict]]] = {}
        self._head = _dumps({"schemaVersion": "2.0", "accountId": self.account, "region": self.region,
                             "partition": self.partition})[:-1] + ',"id":"'
        self._arn_mid = f'","arn":"arn:{self.partition}:guardduty:{self.region}:{self.account}:detector/' \
                        f'{self.detector}/finding/'

    # --- public -------------------------------------------------------------------------------------

    def finding(self, type_name: str, *, rng: random.Random, resource: dict | None = None,
                severity: float | None = None, now: datetime | None = None, sample: bool = False,
                allow_retired: bool = False) -> dict:
        result: dict = json.loads(self.finding_json(type_name, rng=rng, resource=resource, severity=severity,
                                                    now=now, sample=sample, allow_retired=allow_retired))
        return result

    def finding_json(self, type_name: str, *, rng: random.Random, resource: dict | None = None,
                     severity: float | None = None, now: datetime | None = None, sample: bool = False,
                     now_epoch_ms: int | None = None, allow_retired: bool = False) -> str:
        """One finding as a compact JSON document (no trailing newline)."""
        recipe = recipe_for(type_name, allow_retired=allow_retired)
        moment = now_epoch_ms if now_epoch_ms is not None else (to_ms(now) if now is not None else now_ms())
        if severity is not None:
            _check_severity(recipe, severity)
        section, section_json, subject, slots = self._section(recipe, resource, rng, moment)
        occ = occurrence(recipe, subject, slots, section, self.ctx, rng, moment, detector=self.detector)
        if severity is not None:
            # An asked-for severity picks the activity that implies it (a High SSH brute force is outbound).
            for _ in range(32):
                if occ.label is None or _in_band(severity, occ.label):
                    break
                occ = occurrence(recipe, subject, slots, section, self.ctx, rng, moment, detector=self.detector)
        finding_id = ids.finding_id(rng)
        count, created, updated, first_seen, last_seen = timeline(rng, moment)
        if severity is None:
            label = occ.label or recipe.severity_labels[below(rng, len(recipe.severity_labels))]
            severity = severity_value(label, rng)
        service = self.service(occ, count=count, first_seen=first_seen, last_seen=last_seen, sample=sample)
        updated_text = iso_ms(updated)
        parts = [self._head, finding_id, self._arn_mid, finding_id, '","type":', _dumps(recipe.type_name),
                 ',"resource":', section_json, ',"service":', _dumps(service), ',"severity":', repr(float(severity)),
                 ',"createdAt":"', updated_text if created == updated else iso_ms(created), '","updatedAt":"',
                 updated_text, '","title":',
                 _dumps(occ.title), ',"description":', _dumps(occ.description)]
        if occ.custom_rule:
            parts += [',"customDetectionRuleName":', _dumps(occ.custom_rule)]
        parts.append("}")
        return "".join(parts)

    def service(self, occ: Occurrence, *, count: int, first_seen: int, last_seen: int, sample: bool,
                archived: bool = False) -> dict:
        """The wire ``service`` section for an occurrence."""
        service: dict = {"serviceName": "guardduty", "detectorId": self.detector}
        if occ.action is not None:
            service["action"] = occ.action
        service["resourceRole"] = occ.role
        service["additionalInfo"] = additional_info(occ.info, sample)
        if occ.evidence is not None:
            service["evidence"] = occ.evidence
        last_text = iso_ms(last_seen)
        service["eventFirstSeen"] = last_text if first_seen == last_seen else iso_ms(first_seen)
        service["eventLastSeen"] = last_text
        service["archived"] = archived
        service["count"] = count
        if occ.feature:
            service["featureName"] = occ.feature
        if occ.ebs_scan is not None:
            service["ebsVolumeScanDetails"] = occ.ebs_scan
        if occ.runtime is not None:
            service["runtimeDetails"] = occ.runtime
        if occ.detection is not None:
            service["detection"] = occ.detection
        if occ.malware_scan is not None:
            service["malwareScanDetails"] = occ.malware_scan
        return service

    def new_occurrence(self, recipe: Recipe, section: dict, rng: random.Random, moment: int) -> Occurrence:
        """A later occurrence on the same resource section (aggregate_update)."""
        return occurrence(recipe, summarize(section), {}, section, self.ctx, rng, moment, detector=self.detector)

    # --- internals ----------------------------------------------------------------------------------

    def _fleet(self, day_ms: int) -> tuple[Fleet, SectionBuilder]:
        entry = self._fleets.get(day_ms)
        if entry is None:
            if len(self._fleets) >= 8:
                self._fleets.clear()
            fleet = Fleet(self.pools, self.account, self.region, day_ms)
            entry = self._fleets[day_ms] = (fleet, SectionBuilder(self.account, self.region, fleet))
        return entry

    def _section(self, recipe: Recipe, resource: dict | None, rng: random.Random,
                 moment: int) -> tuple[dict, str, dict[str, str], dict[str, dict]]:
        fleet, builder = self._fleet(moment - moment % DAY_MS)
        if resource is not None:
            binding = bind_descriptor(recipe, resource)
            section = builder.build(recipe, binding.resource_type, binding.slots, rng)
            return section, _dumps(section), summarize(section), binding.slots
        binding = fleet_binding(recipe, rng)
        assert binding.key is not None
        key = (fleet.day_ms, *binding.key)
        cached = self._sections.get(key)
        if cached is None:
            if len(self._sections) >= _SECTION_CACHE_LIMIT:
                self._sections.clear()
            slots = fill_from_fleet(binding, recipe, fleet)
            # The section's own random draws depend only on its key, so a cache hit and a miss agree.
            section_rng = random.Random(f"{self.pool_seed}:{key}")
            section = builder.build(recipe, binding.resource_type, slots, section_rng)
            cached = self._sections[key] = (section, _dumps(section), summarize(section), slots)
        return cached


_PLAIN_INFO = {flag: {"sample": flag, "value": dumps({"sample": flag}), "type": "default"} for flag in (False, True)}


def additional_info(info: dict, sample: bool) -> dict:
    """service.additionalInfo as GetFindings returns it: the members flattened, and again as a JSON string in
    ``value`` with ``type`` "default" (the form botocore's ServiceAdditionalInfo shape keeps)."""
    if not info:
        return _PLAIN_INFO[bool(sample)]  # shared: serialised, never mutated
    flat = {**info, "sample": sample}
    return {**flat, "value": _dumps(flat), "type": "default"}


def _in_band(severity: float, label: str) -> bool:
    low, high = SEVERITY_BANDS[label]
    return low <= severity <= high


def _check_severity(recipe: Recipe, severity: float) -> None:
    low, high = recipe.severity_range
    if isinstance(severity, bool) or not isinstance(severity, int | float) or not low <= severity <= high:
        raise InputError(f"severity {severity!r} is outside {recipe.type_name}'s band {low}-{high}",
                         field="severity", fix=f"use a value between {low} and {high}, or leave it out")


@lru_cache(maxsize=64)
def shared_factory(account_id: str, region: str, pool_seed: int) -> FindingFactory:
    return FindingFactory(account_id=account_id, region=region, pool_seed=pool_seed)


def generate_finding(type_name: str, *, rng: random.Random, account_id: str = "123456789012",
                     region: str = "us-east-1", resource: dict | None = None, severity: float | None = None,
                     now: datetime | None = None, sample: bool = False, allow_retired: bool = False) -> dict:
    """A wire-form (camelCase) GuardDuty finding of an active type, reproducible from ``rng``.

    ``resource`` binds the finding to a provisioned resource descriptor; ``now`` is the finding's
    updatedAt (default: the current time, so pass it for byte-identical output). A retired type is made
    only with ``allow_retired=True`` (responders still receive them; scenarios opt in explicitly).
    """
    factory = shared_factory(check_account(account_id), check_region(region), below(rng, POOL_SETS))
    return factory.finding(type_name, rng=rng, resource=resource, severity=severity, now=now, sample=sample,
                           allow_retired=allow_retired)
