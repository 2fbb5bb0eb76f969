"""Gathering what an on-call needs, and keeping it: facts read from a finding, read-only look-ups of the
resource it names, and the case file in the evidence bucket where they (and other evidence) are kept.

Facts are copied field by field, never the finding whole: every string is cut short and stripped of
control characters, so a hostile finding can neither flood a notification nor forge log lines. The
case file lives under ``guardduty/<finding id>/`` in the evidence bucket; evidence objects carry the
tags ``gdsim:finding-id`` and ``gdsim:evidence`` (what they are). It also holds the markers that make
a repeated delivery a no-op (``markers/<step>``, untagged: they are bookkeeping, not evidence).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from responders.lib.instance import error_code

FINDING_TAG = "gdsim:finding-id"
EVIDENCE_TAG = "gdsim:evidence"
CASE_PREFIX = "guardduty"
TEXT_LIMIT = 300
LIST_LIMIT = 20

_MISSING_CODES = ("404", "NoSuchKey", "NotFound", "NoSuchBucket")
_EKS_CLUSTER = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
_DB_INSTANCE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$")
_FUNCTION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_INSTANCE = re.compile(r"^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


# ---------------------------------------------------------------- safe text


def clean(value: Any, limit: int = TEXT_LIMIT) -> str | None:
    """A printable, single-line, bounded copy of a scalar (None for missing or structured values)."""
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value)
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def member(value: Any, key: str) -> Mapping[str, Any]:
    """``value[key]`` when both are objects, else an empty one: findings may lack or mistype any member."""
    found = value.get(key) if isinstance(value, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def dig(value: Any, *path: str) -> Any:
    """``value[path[0]][path[1]]...``, or None where a member is missing or not an object."""
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _dicts(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, list):
        for item in value[:LIST_LIMIT]:
            if isinstance(item, Mapping):
                yield item


def _compact(record: Mapping[str, Any]) -> dict[str, Any]:
    """Drop empty members, so notifications list only what the finding says."""
    return {key: value for key, value in record.items() if value not in (None, "", [], {})}


# ---------------------------------------------------------------- facts from the finding


def remote_parties(finding: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Who was on the other end: address, direction, organisation and country, per remote party."""
    action = dig(finding, "service", "action")
    parties: list[dict[str, Any]] = []
    if not isinstance(action, Mapping):
        return parties
    for name, body in action.items():
        if not isinstance(body, Mapping):
            continue
        direction = clean(body.get("connectionDirection"), 16)
        details = [body.get("remoteIpDetails")] + [probe.get("remoteIpDetails")
                                                    for probe in _dicts(body.get("portProbeDetails"))]
        for detail in details:
            if not isinstance(detail, Mapping):
                continue
            parties.append(_compact({
                "ipv4": clean(detail.get("ipAddressV4"), 64), "ipv6": clean(detail.get("ipAddressV6"), 64),
                "direction": direction or ("INBOUND" if name != "dnsRequestAction" else None),
                "organization": clean(dig(detail, "organization", "org"), 120),
                "asn": clean(dig(detail, "organization", "asn"), 16),
                "country": clean(dig(detail, "country", "countryName"), 60),
            }))
    return parties[:LIST_LIMIT]


def _resource_facts(resource: Mapping[str, Any]) -> dict[str, Any]:
    instance = resource.get("instanceDetails")
    facts: dict[str, Any] = {"resource_type": clean(resource.get("resourceType"), 40)}
    if isinstance(instance, Mapping):
        facts["instance_id"] = clean(instance.get("instanceId"), 40)
        facts["image_id"] = clean(instance.get("imageId"), 40)
        facts["network_interfaces"] = [clean(eni.get("networkInterfaceId"), 40)
                                       for eni in _dicts(instance.get("networkInterfaces"))]
    key = resource.get("accessKeyDetails")
    if isinstance(key, Mapping):
        facts["access_key_id"] = clean(key.get("accessKeyId"), 40)
        facts["principal"] = clean(key.get("userName"), 128)
    buckets = [clean(bucket.get("name"), 63) for bucket in _dicts(resource.get("s3BucketDetails"))]
    objects = [clean(obj.get("key"), 200) for bucket in _dicts(resource.get("s3BucketDetails"))
               for obj in _dicts(bucket.get("s3ObjectDetails"))]
    facts.update(buckets=buckets, objects=objects)
    eks = resource.get("eksClusterDetails")
    if isinstance(eks, Mapping):
        facts["eks_cluster"] = clean(eks.get("name"), 100)
    kubernetes = resource.get("kubernetesDetails")
    if isinstance(kubernetes, Mapping):
        facts["kubernetes_user"] = clean(dig(kubernetes, "kubernetesUserDetails", "username"), 128)
        facts["kubernetes_workload"] = clean(dig(kubernetes, "kubernetesWorkloadDetails", "name"), 128)
        facts["kubernetes_namespace"] = clean(dig(kubernetes, "kubernetesWorkloadDetails", "namespace"), 64)
    database = resource.get("rdsDbInstanceDetails") or resource.get("rdsLimitlessDbDetails")
    if isinstance(database, Mapping):
        facts["db_instance"] = clean(database.get("dbInstanceIdentifier") or database.get("dbClusterIdentifier"),
                                     63)
        facts["db_engine"] = clean(database.get("engine"), 40)
        facts["db_user"] = clean(dig(resource, "rdsDbUserDetails", "user"), 64)
    function = resource.get("lambdaDetails")
    if isinstance(function, Mapping):
        facts["lambda_function"] = clean(function.get("functionName"), 64)
        facts["lambda_function_arn"] = clean(function.get("functionArn"), 200)
    ecs = resource.get("ecsClusterDetails")
    if isinstance(ecs, Mapping):
        facts["ecs_cluster"] = clean(ecs.get("name"), 100)
    return facts


def _sequence_facts(finding: Mapping[str, Any]) -> dict[str, Any]:
    sequence = dig(finding, "service", "detection", "sequence")
    if not isinstance(sequence, Mapping):
        return {}
    tactics = next((indicator.get("values") for indicator in _dicts(sequence.get("sequenceIndicators"))
                    if indicator.get("key") == "ATTACK_TACTIC"), None)
    return {"sequence": _compact({
        "description": clean(sequence.get("description"), 500),
        "actors": [clean(actor.get("id"), 128) for actor in _dicts(sequence.get("actors"))],
        "resources": [clean(item.get("uid"), 200) for item in _dicts(sequence.get("resources"))],
        "endpoints": [clean(item.get("ip") or item.get("id"), 64) for item in _dicts(sequence.get("endpoints"))],
        "signals": [clean(signal.get("name"), 120) for signal in _dicts(sequence.get("signals"))],
        "tactics": [clean(value, 60) for value in tactics[:LIST_LIMIT]] if isinstance(tactics, list) else [],
    })}


def facts_of(finding: Mapping[str, Any]) -> dict[str, Any]:
    """The data a runbook gathers from the finding itself, bounded and safe to publish."""
    service = member(finding, "service")
    action = member(service, "action")
    call: Mapping[str, Any] = next((body for body in action.values() if isinstance(body, Mapping) and "api" in body),
                                   {})
    dns = member(action, "dnsRequestAction")
    threats = [clean(name, 120) for item in _dicts(dig(service, "evidence", "threatIntelligenceDetails"))
               for name in (item.get("threatNames") or [])[:LIST_LIMIT]]
    resource = member(finding, "resource")
    facts = {
        "finding_id": clean(finding.get("id"), 128),
        "finding_type": clean(finding.get("type"), 128),
        "severity": finding.get("severity") if isinstance(finding.get("severity"), int | float) else None,
        "title": clean(finding.get("title")),
        "account": clean(finding.get("accountId"), 12),
        "region": clean(finding.get("region"), 32),
        "created_at": clean(finding.get("createdAt"), 40),
        "updated_at": clean(finding.get("updatedAt"), 40),
        "first_seen": clean(service.get("eventFirstSeen"), 40),
        "last_seen": clean(service.get("eventLastSeen"), 40),
        "count": service.get("count") if isinstance(service.get("count"), int) else None,
        "resource_role": clean(service.get("resourceRole"), 16),
        "action_type": clean(action.get("actionType"), 40),
        "remote_parties": remote_parties(finding),
        "api": clean(call.get("api"), 80),
        "user_agent": clean(call.get("userAgent"), 200),
        "domain": clean(dns.get("domain"), 253),
        "threats": [name for name in threats if name],
        **_resource_facts(resource),
        **_sequence_facts(finding),
    }
    return _compact({key: ([item for item in value if item] if isinstance(value, list) else value)
                     for key, value in facts.items()})


# ---------------------------------------------------------------- read-only look-ups


def _look(name: str, read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A look-up's result, or why there is none: a failed read is a fact for the on-call, not a crash."""
    try:
        return {"name": name, "found": True, **read()}
    except ClientError as exc:
        code = error_code(exc)
        if code.endswith(("NotFound", "NotFoundException", "NotFoundFault")) or code in _MISSING_CODES:
            return {"name": name, "found": False, "reason": "not in this account and region"}
        return {"name": name, "found": None, "reason": f"could not read: {code}"}
    except Exception as exc:  # a broken endpoint must not stop the runbook either
        return {"name": name, "found": None, "reason": f"could not read: {type(exc).__name__}"}


def lookups(facts: Mapping[str, Any], client: Callable[[str], Any]) -> dict[str, Any]:
    """What the account says about the resource the finding names, by read-only calls only.

    Names are checked against the service's own naming rules before they reach an API.
    """
    found: dict[str, Any] = {}
    instance_id = facts.get("instance_id")
    if isinstance(instance_id, str) and _INSTANCE.match(instance_id):
        def read_instance() -> dict[str, Any]:
            reservations = client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"]
            item = reservations[0]["Instances"][0]
            return {"state": item["State"]["Name"], "subnet_id": item.get("SubnetId"), "vpc_id": item.get("VpcId"),
                    "security_groups": [g["GroupId"] for g in item.get("SecurityGroups", [])]}
        found["instance"] = _look(instance_id, read_instance)
    cluster = facts.get("eks_cluster")
    if isinstance(cluster, str) and _EKS_CLUSTER.match(cluster):
        def read_cluster() -> dict[str, Any]:
            detail = client("eks").describe_cluster(name=cluster)["cluster"]
            return {"status": detail.get("status"), "version": detail.get("version"),
                    "endpoint_public": dig(detail, "resourcesVpcConfig", "endpointPublicAccess")}
        found["eks_cluster"] = _look(cluster, read_cluster)
    database = facts.get("db_instance")
    if isinstance(database, str) and _DB_INSTANCE.match(database):
        def read_database() -> dict[str, Any]:
            item = client("rds").describe_db_instances(DBInstanceIdentifier=database)["DBInstances"][0]
            return {"status": item.get("DBInstanceStatus"), "engine": item.get("Engine"),
                    "publicly_accessible": item.get("PubliclyAccessible")}
        found["db_instance"] = _look(database, read_database)
    buckets = [name for name in facts.get("buckets") or [] if isinstance(name, str) and _BUCKET.match(name)]
    if buckets:
        found["buckets"] = [_look(name, _bucket_reader(client, name)) for name in buckets[:3]]
    function = facts.get("lambda_function")
    if isinstance(function, str) and _FUNCTION.match(function):
        def read_function() -> dict[str, Any]:
            item = client("lambda").get_function_configuration(FunctionName=function)
            return {"runtime": item.get("Runtime"), "role": item.get("Role"), "last_modified": item.get("LastModified")}
        found["lambda_function"] = _look(function, read_function)
    return found


def _bucket_reader(client: Callable[[str], Any], name: str) -> Callable[[], dict[str, Any]]:
    def read() -> dict[str, Any]:
        client("s3").head_bucket(Bucket=name)
        return {}

    return read


def missing_resources(found: Mapping[str, Any]) -> list[str]:
    """The resources the look-ups say are not in this account and region, as "kind name" phrases."""
    missing = []
    for kind, result in found.items():
        for item in result if isinstance(result, list) else [result]:
            if isinstance(item, Mapping) and item.get("found") is False:
                missing.append(f"{kind.removesuffix('s').replace('_', ' ')} {item.get('name')}")
    return missing


# ---------------------------------------------------------------- the case file


def _tagging(tags: Mapping[str, str]) -> str:
    return "&".join(f"{quote(key, safe='')}={quote(value, safe='')}" for key, value in tags.items())


class CaseFile:
    """One finding's folder in the evidence bucket: evidence objects and step markers.

    ``finding_id`` must already be checked (responders.lib.events.finding_id_of): it becomes part of keys.
    As a runbook's memory (responders.lib.idempotency.Memory) its markers keep whole records.
    """

    detailed = True  # a marker keeps the finding's version and the reason paged
    strict = False  # markers are bookkeeping apart from the resource: one not written is logged, the step stands

    def __init__(self, s3: Any, bucket: str, finding_id: str) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.finding_id = finding_id

    def key(self, *parts: str) -> str:
        # Each part is quoted whole, so a '/' or '..' from a finding can never add a path level.
        return "/".join((CASE_PREFIX, self.finding_id, *(quote(part, safe="") for part in parts)))

    def _read(self, key: str) -> bytes | None:
        try:
            return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except ClientError as exc:
            if error_code(exc) in _MISSING_CODES:
                return None
            raise

    def exists(self, *parts: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=self.key(*parts))
        except ClientError as exc:
            if error_code(exc) in _MISSING_CODES:
                return False
            raise
        return True

    # -- markers: what a previous delivery already did ----------------------------------------------------

    def marker(self, step: str) -> dict[str, Any] | None:
        """What was recorded when ``step`` was done for this finding, or None if it never was."""
        body = self._read(self.key("markers", step))
        if body is None:
            return None
        try:
            record = json.loads(body)
        except ValueError:
            return {}
        return record if isinstance(record, dict) else {}

    def mark(self, step: str, record: Mapping[str, Any] | None = None) -> None:
        body = json.dumps({"at": now_text(), **(record or {})}, sort_keys=True, default=str)
        self.s3.put_object(Bucket=self.bucket, Key=self.key("markers", step), Body=body.encode(),
                           ContentType="application/json")

    # -- evidence ---------------------------------------------------------------------------------------

    def put_evidence(self, name: tuple[str, ...], body: bytes | Mapping[str, Any], *, kind: str,
                     tags: Mapping[str, str] | None = None) -> str:
        """Store one piece of evidence, tagged with the finding id and its kind; returns its key."""
        data = body if isinstance(body, bytes) else json.dumps(body, sort_keys=True, default=str, indent=1).encode()
        key = self.key(*name)
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="application/json",
                           Tagging=_tagging({FINDING_TAG: self.finding_id, EVIDENCE_TAG: kind, **(tags or {})}))
        return key

    def evidence_tags(self, kind: str, tags: Mapping[str, str] | None = None) -> str:
        """The Tagging header value evidence of ``kind`` carries (for copies made by CopyObject)."""
        return _tagging({FINDING_TAG: self.finding_id, EVIDENCE_TAG: kind, **(tags or {})})


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
