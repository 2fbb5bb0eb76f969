"""CloudTrail ``LookupEvents`` (event history) served from the gateway's journal.

Every journaled call that reached an API is a management event, newest first, with the record a real trail
would hold in ``CloudTrailEvent``. One lookup attribute at most, StartTime/EndTime, MaxResults (1-50) and
NextToken behave as the API documents.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sys
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from simulator.gateway.identities import Identities, Identity
from simulator.gateway.journal import Journal, JournalEntry
from simulator.gateway.local import ApiError, LocalResponse, json_response
from simulator.gateway.protocols import CallInfo, WireRequest
from simulator.gateway.resources import NamedResource, resources_named
from simulator.gateway.service_models import MODELS, ServiceModels

LOOKUP_KEYS = ("EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource",
               "AccessKeyId")
MAX_RESULTS = 50
_PROTOCOL = "json"
# Contexts noted beyond twice those kept before the ones of forgotten journal entries are looked for.
_SLACK = 1000


@dataclass(frozen=True, slots=True)
class CallContext:
    """What the journal entry does not keep but a CloudTrail record shows."""

    source_ip: str
    user_agent: str
    request_id: str
    created: tuple[NamedResource, ...] = ()


class CloudTrailLookup:
    """Answers ``LookupEvents``; other CloudTrail calls go on to the sandbox."""

    def __init__(self, journal: Journal, identities: Identities, *, account_id: str, region: str,
                 models: ServiceModels = MODELS) -> None:
        self.journal = journal
        self.identities = identities
        self.account_id = account_id
        self.region = region
        self._models = models
        self._namespace = uuid.uuid4()
        self._contexts: dict[int, CallContext] = {}
        self._prune_above = _SLACK
        self._lock = threading.Lock()

    def note(self, seq: int, context: CallContext) -> None:
        # Every call carries one of a few user agents: one copy each, not one per call.
        context = dataclasses.replace(context, source_ip=sys.intern(context.source_ip),
                                      user_agent=sys.intern(context.user_agent))
        with self._lock:
            self._contexts[seq] = context
            if len(self._contexts) > self._prune_above:
                # Drop the contexts of entries the journal has forgotten (a long storm): they can no longer
                # be looked up. Checked again only once as many more have come, so each call costs O(1).
                first = self.journal.first_seq
                self._contexts = {kept: value for kept, value in self._contexts.items() if kept >= first}
                self._prune_above = 2 * len(self._contexts) + _SLACK

    @property
    def contexts_kept(self) -> int:
        with self._lock:
            return len(self._contexts)

    def __call__(self, call: CallInfo, request: WireRequest) -> LocalResponse | None:
        if call.operation != "LookupEvents":
            return None
        try:
            document = self.lookup(_body(request))
        except ApiError as error:
            return error.response(_PROTOCOL)
        return json_response(document, protocol=_PROTOCOL)

    # -- the API ---------------------------------------------------------------------------------------

    def lookup(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A LookupEvents response document (wire form) for a request body (wire form)."""
        attribute = _attribute(body.get("LookupAttributes"))
        start, end = _time(body.get("StartTime"), "StartTime"), _time(body.get("EndTime"), "EndTime")
        if start is not None and end is not None and start > end:
            raise ApiError("InvalidTimeRangeException", "Start time must be before end time.")
        max_results = body.get("MaxResults", MAX_RESULTS)
        if not isinstance(max_results, int) or isinstance(max_results, bool) or not 1 <= max_results <= MAX_RESULTS:
            raise ApiError("InvalidMaxResultsException", f"MaxResults must be between 1 and {MAX_RESULTS}.")
        before_seq = _token(body.get("NextToken"))
        if body.get("EventCategory") == "insight":
            return {"Events": []}

        selected: list[dict[str, Any]] = []
        more = False
        for entry in reversed(self.journal.entries()):
            if before_seq is not None and entry.seq >= before_seq:
                continue
            if not _is_event(entry):
                continue
            event_time = entry.wall - entry.duration
            if (start is not None and event_time < start) or (end is not None and event_time > end):
                continue
            event = self.event(entry)
            if attribute and not _matches(event, *attribute):
                continue
            if len(selected) == max_results:
                more = True
                break
            selected.append(event)
        document: dict[str, Any] = {"Events": selected}
        if more:
            document["NextToken"] = base64.urlsafe_b64encode(f"seq:{selected[-1]['_seq']}".encode()).decode()
        for event in selected:
            del event["_seq"]
        return document

    def event(self, entry: JournalEntry) -> dict[str, Any]:
        """The LookupEvents ``Event`` for a journal entry (plus a private ``_seq``)."""
        identity = self.identities.resolve(entry.caller)
        with self._lock:
            context = self._contexts.get(entry.seq)
        named = resources_named(entry.service, entry.operation, entry.params)
        resources = tuple(dict.fromkeys(named + (context.created if context else ())))
        return {
            "_seq": entry.seq,
            "EventId": str(uuid.uuid5(self._namespace, str(entry.seq))),
            "EventName": entry.operation,
            "ReadOnly": "false" if entry.mutating else "true",
            "AccessKeyId": entry.caller,
            "EventTime": entry.wall - entry.duration,
            "EventSource": self.event_source(entry.service),
            "Username": identity.user_name,
            "Resources": [{"ResourceType": found.type, "ResourceName": found.name} for found in resources],
            "CloudTrailEvent": json.dumps(self.record(entry, identity)),
        }

    def record(self, entry: JournalEntry, identity: Identity) -> dict[str, Any]:
        """The full CloudTrail record, as a trail would deliver it."""
        with self._lock:
            context = self._contexts.get(entry.seq, CallContext("127.0.0.1", "", str(uuid.uuid4())))
        user_identity: dict[str, Any] = {
            "type": identity.type,
            "principalId": identity.principal_id,
            "arn": identity.arn,
            "accountId": identity.account_id,
            "accessKeyId": entry.caller,
        }
        if identity.type == "IAMUser":
            user_identity["userName"] = identity.user_name
        record: dict[str, Any] = {
            "eventVersion": "1.09",
            "userIdentity": user_identity,
            "eventTime": _iso(entry.wall - entry.duration),
            "eventSource": self.event_source(entry.service),
            "eventName": entry.operation,
            "awsRegion": entry.region,
            "sourceIPAddress": context.source_ip,
            "userAgent": context.user_agent,
            "requestParameters": _camel(entry.params) or None,
            "responseElements": None,
            "requestID": context.request_id,
            "eventID": str(uuid.uuid5(self._namespace, str(entry.seq))),
            "readOnly": not entry.mutating,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": self.account_id,
            "eventCategory": "Management",
        }
        if entry.error_code:
            record["errorCode"] = entry.error_code
            record["errorMessage"] = ""
        return record

    def event_source(self, service: str) -> str:
        model = self._models.model(service)
        prefix = model.endpoint_prefix if model is not None else service
        return f"{prefix}.amazonaws.com"


def _is_event(entry: JournalEntry) -> bool:
    # A dropped connection never reached the API, and the emulator's own control calls are no AWS API.
    return entry.status > 0 and entry.service not in ("moto", "unknown")


def _matches(event: Mapping[str, Any], key: str, value: str) -> bool:
    if key == "ResourceType":
        return any(found["ResourceType"] == value for found in event["Resources"])
    if key == "ResourceName":
        return any(found["ResourceName"] == value for found in event["Resources"])
    return str(event.get(key)) == value


def _attribute(raw: Any) -> tuple[str, str] | None:
    if raw in (None, []):
        return None
    if not isinstance(raw, list) or len(raw) != 1 or not isinstance(raw[0], Mapping):
        raise ApiError("InvalidLookupAttributesException", "You can specify only one lookup attribute.")
    key, value = raw[0].get("AttributeKey"), raw[0].get("AttributeValue")
    if key not in LOOKUP_KEYS:
        raise ApiError("InvalidLookupAttributesException",
                       f"AttributeKey must be one of {', '.join(LOOKUP_KEYS)}.")
    if not isinstance(value, str) or not value:
        raise ApiError("InvalidLookupAttributesException", "AttributeValue must be a non-empty string.")
    return str(key), value


def _time(raw: Any, name: str) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise ApiError("InvalidTimeRangeException", f"{name} is not a valid timestamp.")


def _token(raw: Any) -> int | None:
    if raw in (None, ""):
        return None
    try:
        text = base64.urlsafe_b64decode(str(raw).encode()).decode()
        if text.startswith("seq:"):
            return int(text[4:])
    except ValueError:
        pass
    raise ApiError("InvalidNextTokenException", "Invalid NextToken.")


def _body(request: WireRequest) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        document = json.loads(request.body)
    except ValueError:
        raise ApiError("SerializationException", "The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise ApiError("SerializationException", "The request body must be a JSON object.")
    return document


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _camel(value: Any) -> Any:
    # CloudTrail spells request parameters in lower camel case (instanceId, userName).
    if isinstance(value, Mapping):
        return {(key[:1].lower() + key[1:]) if isinstance(key, str) else key: _camel(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_camel(item) for item in value]
    return value
