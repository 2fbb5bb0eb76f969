"""Storage observers: public access blocked, the bucket policy kept as evidence, a malicious object
quarantined, data gathered into the evidence bucket.

Evidence is an object in the evidence bucket tagged ``gdsim:finding-id`` with the finding's id. A
preserved policy is such an object whose JSON body is the policy the bucket had at injection, either
as the document itself or as the ``policy`` member of a record about it. A quarantined object is no
longer at its key, and a copy with the same content (same ETag) tagged with the finding id is kept in
the bucket or the evidence bucket.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from simulator.observers.base import FINDING_TAG, Observer
from simulator.observers.clients import sandbox_client
from simulator.observers.registry import register
from simulator.targets.base import Sandbox

BLOCK_SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
_EVIDENCE_WRITES = frozenset({"PutObject", "CopyObject", "PutObjectTagging", "CompleteMultipartUpload"})
_MISSING = ("404", "NoSuchKey", "NotFound", "NoSuchBucket", "NoSuchVersion")
# The standard anti-malware test file: what a scanner flags, harmless anywhere else.
TEST_MALWARE = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
LISTING_LIMIT = 1000


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def bucket_name(descriptor: Mapping[str, Any]) -> str:
    return str(descriptor.get("bucket_name") or descriptor["id"])


class TaggedObjects:
    """Objects of one bucket tagged with a finding id, read afresh each poll (bodies cached by ETag)."""

    def __init__(self, bucket: str, finding_id: str | None) -> None:
        self.bucket = bucket
        self.finding_id = finding_id
        self._bodies: dict[tuple[str, str], bytes] = {}

    def listing(self, sandbox: Sandbox) -> list[dict[str, Any]]:
        s3 = sandbox_client(sandbox, "s3")
        found: list[dict[str, Any]] = []
        token: str | None = None
        while len(found) < LISTING_LIMIT:
            params: dict[str, Any] = {"Bucket": self.bucket, **({"ContinuationToken": token} if token else {})}
            page = s3.list_objects_v2(**params)
            found.extend(page.get("Contents", []))
            token = page.get("NextContinuationToken")
            if not token:
                break
        return found

    def tagged(self, sandbox: Sandbox) -> Iterator[dict[str, Any]]:
        """Listing entries of the objects tagged with the finding id."""
        if not self.finding_id:
            return
        s3 = sandbox_client(sandbox, "s3")
        for item in self.listing(sandbox):
            try:
                tags = s3.get_object_tagging(Bucket=self.bucket, Key=item["Key"])["TagSet"]
            except ClientError as error:
                if _code(error) in _MISSING:
                    continue  # deleted between listing and reading
                raise
            if any(tag.get("Key") == FINDING_TAG and tag.get("Value") == self.finding_id for tag in tags):
                yield item

    def body(self, sandbox: Sandbox, item: Mapping[str, Any]) -> bytes:
        key = (str(item["Key"]), str(item.get("ETag", "")))
        if key not in self._bodies:
            response = sandbox_client(sandbox, "s3").get_object(Bucket=self.bucket, Key=item["Key"])
            self._bodies[key] = response["Body"].read()
        return self._bodies[key]


class _BucketObserver(Observer):
    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        self.bucket = bucket_name(self.resource("bucket"))
        self.resource_ids.add(self.bucket)


@register("bucket_public_access_blocked", "bucket")
class BucketPublicAccessBlocked(_BucketObserver):
    """All four public access block settings of the bucket are on."""

    causing_operations = frozenset({"PutPublicAccessBlock"})

    def check(self, sandbox: Sandbox) -> bool:
        try:
            settings = sandbox_client(sandbox, "s3").get_public_access_block(Bucket=self.bucket)[
                "PublicAccessBlockConfiguration"]
        except ClientError as error:
            if _code(error) != "NoSuchPublicAccessBlockConfiguration":
                raise
            settings = {}
        off = [name for name in BLOCK_SETTINGS if settings.get(name) is not True]
        self.detail = f"bucket {self.bucket}: {', '.join(off)} off" if off else None
        return not off


def _policy_of(sandbox: Sandbox, bucket: str) -> dict[str, Any] | None:
    try:
        text = sandbox_client(sandbox, "s3").get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as error:
        if _code(error) in ("NoSuchBucketPolicy", *_MISSING):
            return None
        raise
    document = json.loads(text)
    return document if isinstance(document, dict) else None


def _holds_policy(body: bytes, policy: dict[str, Any] | None) -> bool:
    try:
        document = json.loads(body)
    except ValueError:
        return False
    if policy is not None and document == policy:
        return True
    if not isinstance(document, dict) or not {"policy", "Policy"} & set(document):
        return False
    kept = document.get("policy", document.get("Policy"))
    if isinstance(kept, str):
        try:
            kept = json.loads(kept)
        except ValueError:
            return False
    return bool(kept == policy)


@register("bucket_policy_preserved", ("bucket", "evidence"))
class BucketPolicyPreserved(_BucketObserver):
    """The policy the bucket had at injection is kept in the evidence bucket, tagged with the finding id."""

    causing_operations = _EVIDENCE_WRITES

    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        self.evidence = bucket_name(self.resource("evidence"))
        self.resource_ids = {self.evidence}  # the evidence copy is what makes it hold, not the bucket
        self.objects = TaggedObjects(self.evidence, self.finding_id)
        self.policy: dict[str, Any] | None = None

    def prepare(self, sandbox: Sandbox) -> None:
        super().prepare(sandbox)
        self.policy = _policy_of(sandbox, self.bucket)

    def check(self, sandbox: Sandbox) -> bool:
        if not self.finding_id:
            self.detail = "the finding has no id to tag evidence with"
            return False
        tagged = list(self.objects.tagged(sandbox))
        if any(_holds_policy(self.objects.body(sandbox, item), self.policy) for item in tagged):
            self.detail = None
            return True
        what = "the policy" if self.policy is not None else "a record that it had no policy"
        self.detail = (f"{len(tagged)} object(s) in {self.evidence} tagged with the finding, none holding "
                       f"{what} bucket {self.bucket} had at injection")
        return False


@register("evidence_collected", "evidence")
class EvidenceCollected(Observer):
    """Something about the finding was written to the evidence bucket, tagged with the finding id."""

    causing_operations = _EVIDENCE_WRITES

    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        self.evidence = bucket_name(self.resource("evidence"))
        self.resource_ids.add(self.evidence)
        self.objects = TaggedObjects(self.evidence, self.finding_id)

    def check(self, sandbox: Sandbox) -> bool:
        if not self.finding_id:
            self.detail = "the finding has no id to tag evidence with"
            return False
        kept = [item["Key"] for item in self.objects.tagged(sandbox)]
        self.detail = f"{len(kept)} object(s) kept" if kept else f"nothing in {self.evidence} tagged with the finding"
        return bool(kept)


def malicious_objects(finding: Mapping[str, Any], bucket: str) -> list[str]:
    """The keys the finding reports as malicious in ``bucket``."""
    resource = finding.get("resource")
    details = resource.get("s3BucketDetails") if isinstance(resource, Mapping) else None
    keys: list[str] = []
    for item in details if isinstance(details, list) else []:
        if not isinstance(item, Mapping) or item.get("name") != bucket:
            continue
        for obj in item.get("s3ObjectDetails") or []:
            if isinstance(obj, Mapping) and isinstance(obj.get("key"), str) and obj["key"] not in keys:
                keys.append(obj["key"])
    return keys


@register("object_quarantined", "bucket", optional=("evidence",))
class ObjectQuarantined(_BucketObserver):
    """Each object the finding names is gone from its key, and a copy of it (same ETag) tagged with the
    finding id is kept in the bucket or the evidence bucket.

    The finding factory picks the object's key, so before injection the object is put there (the
    standard anti-malware test file) when the bucket does not hold it: the sandbox then holds what the
    scan found.
    """

    causing_operations = frozenset({"DeleteObject", "DeleteObjects", *_EVIDENCE_WRITES})

    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        self.keys = malicious_objects(finding, self.bucket)
        places = [self.bucket]
        if "evidence" in self.params:
            places.append(bucket_name(self.resource("evidence")))
            self.resource_ids.add(places[-1])
        self.places = [TaggedObjects(place, self.finding_id) for place in places]
        self.etags: dict[str, str] = {}

    def prepare(self, sandbox: Sandbox) -> None:
        super().prepare(sandbox)
        s3 = sandbox_client(sandbox, "s3")
        for key in self.keys:
            try:
                head = s3.head_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                if _code(error) not in _MISSING:
                    raise
                head = s3.put_object(Bucket=self.bucket, Key=key, Body=TEST_MALWARE)
            self.etags[key] = str(head["ETag"])

    def check(self, sandbox: Sandbox) -> bool:
        if not self.keys:
            self.detail = f"the finding names no object in bucket {self.bucket}"
            return False
        s3 = sandbox_client(sandbox, "s3")
        still = []
        for key in self.keys:
            try:
                s3.head_object(Bucket=self.bucket, Key=key)
                still.append(key)
            except ClientError as error:
                if _code(error) not in _MISSING:
                    raise
        if still:
            self.detail = f"still readable at its key: {', '.join(still)}"
            return False
        kept = {str(item.get("ETag")) for place in self.places for item in place.tagged(sandbox)}
        lost = [key for key in self.keys if self.etags.get(key) not in kept]
        if lost:
            self.detail = f"deleted without a copy tagged with the finding: {', '.join(lost)}"
            return False
        self.detail = None
        return True
