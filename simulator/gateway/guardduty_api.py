"""The GuardDuty findings API (rest-json), served by the gateway over the :class:`FindingsStore`.

Served: ListDetectors, GetDetector, GetFindings, ListFindings, ArchiveFindings, UnarchiveFindings,
UpdateFindingsFeedback, CreateSampleFindings, GetFindingsStatistics. Every other GuardDuty call goes on
to the sandbox.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from simulator.catalog import active_types
from simulator.gateway.findings_store import CriteriaError, FindingsStore
from simulator.gateway.local import ApiError, LocalResponse, json_response
from simulator.gateway.protocols import CallInfo, WireRequest

MAX_IDS = 50
MAX_SAMPLE_TYPES = 50
FEEDBACK_VALUES = ("USEFUL", "NOT_USEFUL")
_PROTOCOL = "rest-json"

# Builds one sample finding of a type (wire form) for CreateSampleFindings.
SampleFactory = Callable[[str, FindingsStore], dict[str, Any]]


def _bad_request(message: str) -> ApiError:
    return ApiError("BadRequestException", message, 400)


class GuardDutyApi:
    """Answers the GuardDuty findings operations for the detectors the store knows."""

    operations = frozenset({
        "ListDetectors", "GetDetector", "GetFindings", "ListFindings", "ArchiveFindings", "UnarchiveFindings",
        "UpdateFindingsFeedback", "CreateSampleFindings", "GetFindingsStatistics",
    })

    def __init__(self, store: FindingsStore, *, sample_factory: SampleFactory | None = None) -> None:
        self.store = store
        self.sample_factory = sample_factory or factory_sample
        self.created_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def __call__(self, call: CallInfo, request: WireRequest) -> LocalResponse | None:
        if call.operation not in self.operations:
            return None
        try:
            return self._dispatch(call, request)
        except ApiError as error:
            return error.response(_PROTOCOL)

    def _dispatch(self, call: CallInfo, request: WireRequest) -> LocalResponse:
        if call.operation == "ListDetectors":
            return json_response({"detectorIds": self.store.detector_ids})
        detector_id = self._detector(call)
        body = _body(request)
        if call.operation == "GetDetector":
            return json_response(self._detector_document())
        if call.operation == "GetFindings":
            ids = _ids(body)
            findings = self.store.get(ids, detector_id=detector_id)
            sort = body.get("sortCriteria")
            if isinstance(sort, Mapping) and sort.get("attributeName"):
                wanted = {finding["id"] for finding in findings}
                findings = [f for f in self.store.find(None, detector_id=detector_id, sort=sort) if f["id"] in wanted]
            return json_response({"findings": findings})
        if call.operation == "ListFindings":
            return self._list_findings(body, detector_id)
        if call.operation in ("ArchiveFindings", "UnarchiveFindings"):
            self.store.archive(_ids(body), archived=call.operation == "ArchiveFindings")
            return json_response({})
        if call.operation == "UpdateFindingsFeedback":
            feedback = body.get("feedback")
            if feedback not in FEEDBACK_VALUES:
                raise _bad_request(f"feedback must be one of {', '.join(FEEDBACK_VALUES)}")
            comments = body.get("comments")
            self.store.record_feedback(_ids(body), str(feedback), str(comments) if comments is not None else None)
            return json_response({})
        if call.operation == "CreateSampleFindings":
            self._create_samples(body, detector_id)
            return json_response({})
        return self._statistics(body, detector_id)

    def _detector(self, call: CallInfo) -> str:
        detector_id = call.params.get("DetectorId")
        if detector_id not in self.store.detector_ids:
            raise _bad_request("The request is rejected because the input detectorId is not owned by the current "
                               "account.")
        return str(detector_id)

    def _detector_document(self) -> dict[str, Any]:
        return {
            "createdAt": self.created_at,
            "updatedAt": self.created_at,
            "findingPublishingFrequency": "SIX_HOURS",
            "serviceRole": f"arn:aws:iam::{self.store.account_id}:role/aws-service-role/guardduty.amazonaws.com/"
                           "AWSServiceRoleForAmazonGuardDuty",
            "status": "ENABLED",
            "tags": {},
        }

    def _list_findings(self, body: Mapping[str, Any], detector_id: str) -> LocalResponse:
        max_results = body.get("maxResults", MAX_IDS)
        if not isinstance(max_results, int) or not 1 <= max_results <= MAX_IDS:
            raise _bad_request(f"maxResults must be between 1 and {MAX_IDS}")
        try:
            found = self.store.find(body.get("findingCriteria"), detector_id=detector_id, sort=body.get("sortCriteria"))
        except CriteriaError as error:
            raise _bad_request(str(error)) from None
        start = _offset(body.get("nextToken"))
        page = found[start:start + max_results]
        document: dict[str, Any] = {"findingIds": [finding["id"] for finding in page]}
        if start + max_results < len(found):
            document["nextToken"] = str(start + max_results)
        return json_response(document)

    def _create_samples(self, body: Mapping[str, Any], detector_id: str) -> None:
        types = body.get("findingTypes") or []
        if not isinstance(types, list) or len(types) > MAX_SAMPLE_TYPES:
            raise _bad_request(f"findingTypes takes at most {MAX_SAMPLE_TYPES} types")
        catalog = active_types()
        unknown = [name for name in types if name not in catalog]
        if unknown:
            raise _bad_request(f"The request is rejected because an invalid finding type was specified: {unknown[0]}")
        for type_name in types or list(catalog):
            finding = self.sample_factory(str(type_name), self.store)
            _bind_to_detector(finding, self.store, detector_id)
            self.store.add(finding)

    def _statistics(self, body: Mapping[str, Any], detector_id: str) -> LocalResponse:
        try:
            found = self.store.find(body.get("findingCriteria"), detector_id=detector_id)
        except CriteriaError as error:
            raise _bad_request(str(error)) from None
        by_severity: dict[str, int] = {}
        for finding in found:
            key = str(float(finding.get("severity", 0)))
            by_severity[key] = by_severity.get(key, 0) + 1
        return json_response({"findingStatistics": {"countBySeverity": by_severity}})


def _body(request: WireRequest) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        document = json.loads(request.body)
    except ValueError:
        raise _bad_request("The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise _bad_request("The request body must be a JSON object.")
    return document


def _ids(body: Mapping[str, Any]) -> list[str]:
    ids = body.get("findingIds")
    if not isinstance(ids, list) or not ids or not all(isinstance(item, str) for item in ids):
        raise _bad_request("findingIds must be a non-empty list of finding ids")
    if len(ids) > MAX_IDS:
        raise _bad_request(f"findingIds takes at most {MAX_IDS} ids")
    return ids


def _offset(token: Any) -> int:
    if token in (None, ""):
        return 0
    if not isinstance(token, str) or not token.isdigit():
        raise _bad_request("The nextToken is not valid.")
    return int(token)


def _bind_to_detector(finding: dict[str, Any], store: FindingsStore, detector_id: str) -> None:
    finding.setdefault("service", {})["detectorId"] = detector_id
    finding["accountId"] = store.account_id
    finding["region"] = store.region
    finding["arn"] = (f"arn:aws:guardduty:{store.region}:{store.account_id}:detector/{detector_id}"
                      f"/finding/{finding['id']}")


def factory_sample(type_name: str, store: FindingsStore) -> dict[str, Any]:
    """A sample finding from the project's finding factory, as CreateSampleFindings makes them."""
    from simulator.findings import generate_finding

    rng = random.Random(f"sample:{type_name}:{len(store)}")
    return generate_finding(type_name, rng=rng, account_id=store.account_id, region=store.region, sample=True)
