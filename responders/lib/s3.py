"""S3 containment: block public access, keep the bucket policy as evidence, deny an address in the
bucket policy, move a malicious object out of reach.

The policy is preserved before anything changes it: the evidence is the policy as the incident found
it. A bucket policy is one document, so the deny is one statement with a fixed Sid that is extended
rather than repeated. Objects are quarantined by copying them to the case file (tagged with the finding
id) and then deleting the original; a version the finding names is deleted by its version id, so a
versioned bucket keeps no readable copy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from responders.lib.gather import CaseFile, now_text
from responders.lib.instance import error_code

BLOCK_ALL = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
             "RestrictPublicBuckets": True}
DENY_SID = "GdsimDenyMaliciousAddresses"
# Reading and listing are what exfiltration needs; writes stay governed by the rest of the policy.
DENIED_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions")
BUCKET_NAME = re.compile(r"^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_VERSION_ID = re.compile(r"^[A-Za-z0-9._-]{1,1024}$")
_MISSING = ("404", "NoSuchKey", "NotFound", "NoSuchBucket", "NoSuchVersion")
OBJECT_KEY_LIMIT = 1024


class BucketNotFound(Exception):
    """The bucket the finding names is not in this account."""


class ObjectGone(Exception):
    """The object the finding names is gone and no quarantined copy of it exists."""


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str
    version_id: str | None


def valid_bucket_name(value: Any) -> bool:
    return isinstance(value, str) and bool(BUCKET_NAME.match(value)) and ".." not in value


def buckets_of(finding: Mapping[str, Any]) -> list[str]:
    """The buckets a finding names: ``resource.s3BucketDetails`` (names checked), without repeats."""
    resource = finding.get("resource")
    details = resource.get("s3BucketDetails") if isinstance(resource, Mapping) else None
    names: list[str] = []
    for item in details if isinstance(details, list) else []:
        name = item.get("name") if isinstance(item, Mapping) else None
        if valid_bucket_name(name) and name not in names:
            names.append(str(name))
    return names


def objects_of(finding: Mapping[str, Any]) -> list[ObjectRef]:
    """The objects a Malware Protection for S3 finding names (bucket, key, version)."""
    resource = finding.get("resource")
    details = resource.get("s3BucketDetails") if isinstance(resource, Mapping) else None
    found: list[ObjectRef] = []
    for item in details if isinstance(details, list) else []:
        if not isinstance(item, Mapping) or not valid_bucket_name(item.get("name")):
            continue
        objects = item.get("s3ObjectDetails")
        for obj in objects if isinstance(objects, list) else []:
            key = obj.get("key") if isinstance(obj, Mapping) else None
            if not isinstance(key, str) or not 0 < len(key.encode()) <= OBJECT_KEY_LIMIT:
                continue
            version = obj.get("versionId")
            found.append(ObjectRef(str(item["name"]), key,
                                   version if isinstance(version, str) and _VERSION_ID.match(version) else None))
    return found


def bucket_exists(s3: Any, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) in _MISSING:
            return False
        raise
    return True


def bucket_policy(s3: Any, bucket: str) -> dict[str, Any] | None:
    """The bucket policy document, or None when the bucket has none."""
    try:
        text = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as exc:
        if error_code(exc) in ("NoSuchBucketPolicy", *_MISSING):
            return None
        raise
    document = json.loads(text)
    return document if isinstance(document, dict) else None


def bucket_tags(s3: Any, bucket: str) -> list[dict[str, str]]:
    """The bucket's tags as a TagSet (an empty list when it has none)."""
    try:
        return list(s3.get_bucket_tagging(Bucket=bucket)["TagSet"])
    except ClientError as exc:
        if error_code(exc) in ("NoSuchTagSet", *_MISSING):
            return []
        raise


def public_access_block(s3: Any, bucket: str) -> dict[str, bool] | None:
    try:
        return dict(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"])
    except ClientError as exc:
        if error_code(exc) in ("NoSuchPublicAccessBlockConfiguration", *_MISSING):
            return None
        raise


# ---------------------------------------------------------------- actions


def preserve_policy(case: CaseFile, s3: Any, bucket: str) -> dict[str, Any]:
    """Copy the bucket's policy (and public-access settings) into the case file, once per finding."""
    name = ("s3", bucket, "bucket-policy.json")
    if case.exists(*name):
        return {"evidence": case.key(*name), "created": False}
    record = {"bucket": bucket, "finding_id": case.finding_id, "captured_at": now_text(),
              "policy": bucket_policy(s3, bucket), "public_access_block": public_access_block(s3, bucket)}
    key = case.put_evidence(name, record, kind="bucket-policy", tags={"gdsim:source-bucket": bucket})
    return {"evidence": key, "created": True, "had_policy": record["policy"] is not None}


def block_public_access(s3: Any, bucket: str) -> dict[str, Any]:
    """Turn on all four public access block settings of the bucket."""
    current = public_access_block(s3, bucket) or {}
    if all(current.get(setting) is True for setting in BLOCK_ALL):
        return {"changed": False, "was": current}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=dict(BLOCK_ALL))
    return {"changed": True, "was": current}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def deny_addresses(s3: Any, bucket: str, addresses: Iterable[str]) -> dict[str, Any]:
    """Add the addresses to the bucket policy's deny statement (made if missing); other statements stay."""
    wanted = [f"{address}/{128 if ':' in address else 32}" for address in addresses]
    document = bucket_policy(s3, bucket) or {"Version": "2012-10-17", "Statement": []}
    statements = [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]
    ours = next((s for s in statements if s.get("Sid") == DENY_SID), None)
    if ours is None:
        ours = {"Sid": DENY_SID, "Effect": "Deny", "Principal": "*", "Action": list(DENIED_ACTIONS),
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"IpAddress": {"aws:SourceIp": []}}}
        statements.append(ours)
    listed = _as_list(ours.setdefault("Condition", {}).setdefault("IpAddress", {}).get("aws:SourceIp"))
    added = [block for block in wanted if block not in listed]
    if not added:
        return {"changed": False, "denied": listed}
    ours["Condition"]["IpAddress"]["aws:SourceIp"] = [*listed, *added]
    document["Statement"] = statements
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))
    return {"changed": True, "denied": [*listed, *added], "added": added}


def _head(s3: Any, ref: ObjectRef) -> dict[str, Any] | None:
    params: dict[str, Any] = {"Bucket": ref.bucket, "Key": ref.key}
    if ref.version_id:
        params["VersionId"] = ref.version_id
    try:
        return dict(s3.head_object(**params))
    except ClientError as exc:
        if error_code(exc) in (*_MISSING, "400", "InvalidArgument"):
            return None
        raise


def quarantine_object(case: CaseFile, s3: Any, ref: ObjectRef) -> dict[str, Any]:
    """Copy the object into the case file (tagged with the finding id), then delete the original.

    Repeating it after success finds the original gone and the copy kept, and changes nothing. When the
    finding names a version that is not there (the object changed since the scan), the current object
    at the key is what gets quarantined.
    """
    name = ("s3", ref.bucket, "objects", ref.key)
    kept = case.exists(*name)
    target = ref
    head = _head(s3, ref)
    if head is None and ref.version_id:
        target = ObjectRef(ref.bucket, ref.key, None)
        head = _head(s3, target)
    if head is None:
        if kept:
            return {"evidence": case.key(*name), "changed": False}
        raise ObjectGone(f"s3://{ref.bucket}/{ref.key} is not there and no quarantined copy exists")
    if not kept:
        source: dict[str, Any] = {"Bucket": target.bucket, "Key": target.key}
        if target.version_id:
            source["VersionId"] = target.version_id
        s3.copy_object(Bucket=case.bucket, Key=case.key(*name), CopySource=source, TaggingDirective="REPLACE",
                       Tagging=case.evidence_tags("quarantined-object", {"gdsim:source-bucket": ref.bucket}),
                       MetadataDirective="REPLACE", Metadata={"source-etag": str(head.get("ETag", "")).strip('"')})
    delete: dict[str, Any] = {"Bucket": target.bucket, "Key": target.key}
    version = target.version_id or head.get("VersionId")
    if version and version != "null":
        delete["VersionId"] = version
    s3.delete_object(**delete)
    return {"evidence": case.key(*name), "changed": True, "deleted_version": delete.get("VersionId")}
