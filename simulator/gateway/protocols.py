"""Reading an AWS request off the wire: service, operation, caller, region and the parameters as boto3 names them.

Decoding follows the operation's botocore input shape for every protocol (query, ec2, json, rest-json,
rest-xml), so ``params`` look like the keyword arguments the caller passed to boto3 whatever the wire
format: ``{"InstanceIds": ["i-1"]}`` for EC2's ``InstanceId.1=i-1``.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote
from xml.etree import ElementTree

from botocore.model import OperationModel, Shape, StructureShape

from simulator.gateway.service_models import MODELS, ServiceModels, service_for_scope, service_for_target

# Operation name prefixes that only read. Anything else is mutating (CloudTrail's readOnly=false).
READ_ONLY_PREFIXES = (
    "Describe", "List", "Get", "Lookup", "Head", "Receive", "Search", "Scan", "Query", "BatchGet",
    "Filter", "Simulate", "Validate", "Check", "Test", "Estimate", "Preview", "Select", "Poll",
)

_CREDENTIAL = re.compile(r"Credential=([^,\s]+)")
_SIGV2_HEADER = re.compile(r"^AWS ([^:\s]+):")
_CBOR_PATH = re.compile(r"^/service/([^/]+)/operation/([^/?]+)")
_DECODE_ERROR = "__decode_error__"


@dataclass(frozen=True)
class WireRequest:
    """An HTTP request as the gateway received it. ``headers`` keys are lower case."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes = b""

    @property
    def query_params(self) -> dict[str, list[str]]:
        return parse_qs(self.query, keep_blank_values=True)


@dataclass(frozen=True)
class CallInfo:
    """What a request is: ``protocol`` is one of query, ec2, json, rest-json, rest-xml, rpc-v2-cbor,
    moto-api or unknown."""

    service: str
    operation: str
    region: str
    caller: str
    protocol: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def mutating(self) -> bool:
        return is_mutating(self.operation, self.params)


def is_mutating(operation: str, params: Mapping[str, Any] | None = None) -> bool:
    """The rule: an operation whose name starts with a read verb (Describe, List, Get, Lookup, Head,
    Receive, ...) reads; anything else writes, except an EC2 ``DryRun`` that changes nothing."""
    if not operation or operation.startswith(READ_ONLY_PREFIXES):
        return False
    return not (params and params.get("DryRun") is True)


def credential_scope(request: WireRequest) -> tuple[str, str, str]:
    """(access key id, region, signing service) from SigV4 or SigV2; blanks where the request lacks them."""
    authorization = request.headers.get("authorization", "")
    found = _CREDENTIAL.search(authorization)
    scope = found.group(1) if found else ""
    if not scope:
        query = request.query_params
        scope = unquote(query.get("X-Amz-Credential", [""])[0])
        if not scope:
            sigv2 = _SIGV2_HEADER.match(authorization)
            key = sigv2.group(1) if sigv2 else query.get("AWSAccessKeyId", [""])[0]
            return key, "", ""
    parts = scope.split("/")
    if len(parts) == 5:  # key/date/region/service/aws4_request
        return parts[0], parts[2], parts[3]
    if len(parts) == 4:  # SigV4a: key/date/service/aws4_request
        return parts[0], "", parts[2]
    return parts[0], "", ""


def identify(request: WireRequest, *, default_region: str, models: ServiceModels = MODELS) -> CallInfo:
    """Service, operation, caller, region and decoded parameters of ``request``."""
    caller, region, signing_name = credential_scope(request)
    region = region or default_region
    if request.path.startswith("/moto-api"):
        return CallInfo("moto", request.path.removeprefix("/moto-api/"), region, caller, "moto-api")

    body = _plain_body(request)
    form = _form_params(request, body)
    target = request.headers.get("x-amz-target", "")
    if signing_name:
        version = form.get("Version")
        service = service_for_scope(signing_name, request.path, version if isinstance(version, str) else None)
    else:
        service = (service_for_target(target) if target else None) or "unknown"

    if target:
        operation = target.rsplit(".", 1)[-1]
        op_model = models.operation(service, operation)
        params = _guarded(lambda: _from_json(_json_body(body), op_model.input_shape if op_model else None))
        return CallInfo(service, operation, region, caller, "json", params)

    action = form.get("Action")
    if isinstance(action, str) and action:
        model = models.model(service)
        protocol = "ec2" if model is not None and model.protocol == "ec2" else "query"
        op_model = models.operation(service, action)
        shape = op_model.input_shape if op_model else None
        tree = {key: value for key, value in form.items() if key not in ("Action", "Version")}
        params = _guarded(lambda: _from_query(tree, shape, ec2=protocol == "ec2") if shape else tree)
        return CallInfo(service, action, region, caller, protocol, params)

    cbor = _CBOR_PATH.match(request.path)
    if cbor:
        return CallInfo(service, cbor.group(2), region, caller, "rpc-v2-cbor")

    return _identify_rest(request, body, service, region, caller, models)


def _identify_rest(request: WireRequest, body: bytes, service: str, region: str, caller: str,
                   models: ServiceModels) -> CallInfo:
    model = models.model(service)
    if model is None or not model.protocol.startswith("rest"):
        return CallInfo(service, "", region, caller, "unknown")
    router = models.router(service)
    path = request.path
    if service == "s3":
        path = _path_style(request.headers.get("host", ""), path)
    matched = router.match(request.method, path, request.query_params, request.headers) if router else None
    if matched is None:
        return CallInfo(service, "", region, caller, "unknown")
    op_model, labels = matched
    protocol = model.protocol if model.protocol in ("rest-json", "rest-xml") else "rest-json"
    params = _guarded(lambda: _from_rest(request, body, op_model, labels, xml=protocol == "rest-xml"))
    return CallInfo(service, op_model.name, region, caller, protocol, params)


def _path_style(host: str, path: str) -> str:
    """S3 virtual-hosted requests (``bucket.localhost:port``) rewritten to path style for routing."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    labels = name.split(".")
    if len(labels) < 2 or name.replace(".", "").isdigit():
        return path
    if labels[-1] == "localhost" or ".s3." in f".{name}." or labels[1] == "s3":
        return f"/{labels[0]}{path}"
    return path


def _guarded(decode: Any) -> dict[str, Any]:
    # A request the models cannot read is still forwarded and journaled; the reason is kept in params.
    try:
        result = decode()
    except (ValueError, KeyError, TypeError, AttributeError, ElementTree.ParseError) as error:
        return {_DECODE_ERROR: f"{type(error).__name__}: {error}"}
    return result if isinstance(result, dict) else {}


def _plain_body(request: WireRequest) -> bytes:
    encoding = request.headers.get("content-encoding", "").lower()
    if "gzip" in encoding and request.body[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(request.body)
        except (OSError, EOFError, zlib.error):
            return b""
    return request.body


def _form_params(request: WireRequest, body: bytes) -> dict[str, Any]:
    """Query-protocol parameters from the form body and the URL, as a nested tree split on dots."""
    pairs: list[tuple[str, str]] = []
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("application/x-www-form-urlencoded") and body:
        pairs.extend(_parse_pairs(body.decode("utf-8", "replace")))
    if request.query and ("Action=" in request.query):
        pairs.extend(_parse_pairs(request.query))
    tree: dict[str, Any] = {}
    for key, value in pairs:
        node = tree
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node.setdefault(parts[-1], value)
    return tree


def _parse_pairs(text: str) -> list[tuple[str, str]]:
    result: list[tuple[str, str]] = []
    for key, values in parse_qs(text, keep_blank_values=True).items():
        result.extend((key, value) for value in values)
    return result


def _json_body(body: bytes) -> Any:
    if not body.strip():
        return {}
    return json.loads(body)


def _scalar(value: Any, shape: Shape | None) -> Any:
    if not isinstance(value, str) or shape is None:
        return value
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(value)
        if kind in ("float", "double"):
            return float(value)
    except ValueError:
        return value
    if kind == "boolean":
        return value.lower() == "true"
    return value


def _ordered(items: Mapping[str, Any]) -> list[Any]:
    return [items[key] for key in sorted((k for k in items if k.isdigit()), key=int)]


def _query_name(name: str, member: Shape, ec2: bool) -> str:
    serialization = member.serialization
    if ec2:
        if "queryName" in serialization:
            return str(serialization["queryName"])
        if "name" in serialization:
            wire = str(serialization["name"])
            return wire[0].upper() + wire[1:]
        return name
    if member.type_name == "list" and serialization.get("flattened") and member.member.serialization.get("name"):
        # botocore puts a flattened list under its member's name instead of its own.
        return str(member.member.serialization["name"])
    return str(serialization.get("name", name))


def _from_query(node: Any, shape: Shape | None, *, ec2: bool) -> Any:
    if shape is None:
        return node
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(node, dict):
            return node
        out = {}
        for name, member in shape.members.items():
            wire = _query_name(name, member, ec2)
            if wire in node:
                out[name] = _from_query(node[wire], member, ec2=ec2)
        return out
    if kind == "list":
        if node == "":
            return []
        if not isinstance(node, dict):
            return [_scalar(node, shape.member)]
        if not ec2 and not shape.serialization.get("flattened"):
            node = node.get(shape.member.serialization.get("name", "member"), {})
        return [_from_query(item, shape.member, ec2=ec2) for item in _ordered(node)]
    if kind == "map":
        if not isinstance(node, dict):
            return node
        entries = node if shape.serialization.get("flattened") else node.get("entry", {})
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        return {
            entry.get(key_name): _from_query(entry.get(value_name), shape.value, ec2=ec2)
            for entry in _ordered(entries)
            if isinstance(entry, dict)
        }
    return _scalar(node, shape)


def _from_json(value: Any, shape: Shape | None) -> Any:
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        out = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            if wire in value:
                out[name] = _from_json(value[wire], member)
        return out
    if kind == "list" and isinstance(value, list):
        return [_from_json(item, shape.member) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: _from_json(item, shape.value) for key, item in value.items()}
    return value


def _from_rest(request: WireRequest, body: bytes, op_model: OperationModel, labels: Mapping[str, str], *,
               xml: bool) -> dict[str, Any]:
    shape = op_model.input_shape
    if shape is None:
        return {}
    query = request.query_params
    params: dict[str, Any] = {}
    body_members: dict[str, Shape] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri":
            if wire in labels:
                params[name] = _scalar(labels[wire], member)
        elif location == "querystring":
            if member.type_name == "list" and wire in query:
                params[name] = [_scalar(item, member.member) for item in query[wire]]
            elif wire in query:
                params[name] = _scalar(query[wire][0], member)
        elif location == "header":
            if wire.lower() in request.headers:
                params[name] = _scalar(request.headers[wire.lower()], member)
        elif location == "headers":
            prefix = wire.lower()
            found = {key[len(prefix):]: value for key, value in request.headers.items() if key.startswith(prefix)}
            if found:
                params[name] = found
        elif not location:
            body_members[name] = member
    payload = shape.serialization.get("payload")
    if payload:
        member = shape.members[payload]
        if member.type_name == "structure" and body.strip():
            params[payload] = _from_xml_text(body, member) if xml else _from_json(_json_body(body), member)
        return params
    if body_members and body.strip():
        decoded = _from_xml_text(body, shape) if xml else _from_json(_json_body(body), shape)
        params.update({name: value for name, value in decoded.items() if name in body_members})
    return params


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _from_xml_text(body: bytes, shape: StructureShape) -> Any:
    return _from_xml(ElementTree.fromstring(body), shape)


def _from_xml(element: ElementTree.Element, shape: Shape) -> Any:
    kind = shape.type_name
    if kind == "structure":
        children: dict[str, list[ElementTree.Element]] = {}
        for child in element:
            children.setdefault(_local(child.tag), []).append(child)
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            if member.type_name == "list" and member.serialization.get("flattened"):
                wire = member.member.serialization.get("name", wire)
                if wire in children:
                    out[name] = [_from_xml(item, member.member) for item in children[wire]]
            elif wire in children:
                out[name] = _from_xml(children[wire][0], member)
        return out
    if kind == "list":
        member_name = shape.member.serialization.get("name", "member")
        return [_from_xml(item, shape.member) for item in element if _local(item.tag) == member_name]
    if kind == "map":
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        flattened = shape.serialization.get("flattened")
        result = {}
        for entry in element if flattened else [item for item in element if _local(item.tag) == "entry"]:
            parts = {_local(child.tag): child for child in entry}
            if key_name in parts and value_name in parts:
                result[parts[key_name].text or ""] = _from_xml(parts[value_name], shape.value)
        return result
    return _scalar(element.text or "", shape)
