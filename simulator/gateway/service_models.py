"""botocore's service models, as the gateway needs them: which service a request is for, and its operation."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import unquote

import botocore.session
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationModel, ServiceModel

# SigV4 signing names that are not botocore's service name for the same API.
_SIGNING_ALIASES = {
    "states": "stepfunctions",
    "monitoring": "cloudwatch",
    "email": "ses",
    "execute-api": "apigateway",
    "elasticloadbalancing": "elbv2",
    "eventbridge": "events",
    "aws-marketplace": "marketplace-catalog",
}

# X-Amz-Target prefixes of JSON services, for requests that arrive unsigned.
_TARGET_PREFIXES = {
    "AmazonSQS": "sqs",
    "AWSEvents": "events",
    "AWSStepFunctions": "stepfunctions",
    "CloudTrail_20131101": "cloudtrail",
    "Logs_20140328": "logs",
    "AmazonSSM": "ssm",
    "TrentService": "kms",
    "secretsmanager": "secretsmanager",
    "DynamoDB_20120810": "dynamodb",
    "AWSCognitoIdentityService": "cognito-identity",
    "AWSCognitoIdentityProviderService": "cognito-idp",
}

_ELB_CLASSIC_VERSION = "2012-06-01"


def service_for_scope(signing_name: str, path: str, query_version: str | None = None) -> str:
    """botocore's service name for a request signed for ``signing_name`` (the credential scope's service)."""
    name = signing_name.lower()
    if name == "ses" and path.startswith("/v2/"):
        return "sesv2"
    if name == "s3" and path.startswith("/v20180820/"):
        return "s3control"
    if name == "elasticloadbalancing" and query_version == _ELB_CLASSIC_VERSION:
        return "elb"
    return _SIGNING_ALIASES.get(name, name)


def service_for_target(target: str) -> str | None:
    prefix = target.rsplit(".", 1)[0]
    return _TARGET_PREFIXES.get(prefix.rsplit(".", 1)[-1])


@dataclass(frozen=True)
class _Route:
    operation: OperationModel
    method: str
    pattern: re.Pattern[str]
    labels: tuple[str, ...]
    required_query: tuple[tuple[str, str | None], ...]
    required_headers: tuple[str, ...]
    literal_length: int

    @property
    def specificity(self) -> tuple[int, int, int]:
        return len(self.required_query), len(self.required_headers), self.literal_length


class RestRouter:
    """Maps (method, path, query) to an operation of a REST service, most specific template first."""

    def __init__(self, model: ServiceModel) -> None:
        routes = [_route(model.operation_model(name)) for name in model.operation_names]
        # The most specific template wins: "/{Bucket}?tagging" over "/{Bucket}", and CopyObject (which
        # requires x-amz-copy-source) over PutObject on the same path.
        routes.sort(key=lambda route: tuple(-part for part in route.specificity))
        self._routes = routes

    def match(self, method: str, path: str, query: dict[str, list[str]],
              headers: Mapping[str, str] | None = None) -> tuple[OperationModel, dict[str, str]] | None:
        """The operation and its URI labels; ``headers`` keys are lower case."""
        headers = headers or {}
        for route in self._routes:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if not found:
                continue
            if not all(_query_has(query, key, value) for key, value in route.required_query):
                continue
            if not all(name in headers for name in route.required_headers):
                continue
            labels = {label: unquote(value) for label, value in zip(route.labels, found.groups(), strict=True)}
            return route.operation, labels
        return None


def _query_has(query: dict[str, list[str]], key: str, value: str | None) -> bool:
    if key not in query:
        return False
    return value is None or value in query[key]


_LABEL = re.compile(r"\{([^}]+)\}")


def _route(operation: OperationModel) -> _Route:
    http = operation.http
    uri = http.get("requestUri", "/")
    path_template, _, query_template = uri.partition("?")
    labels: list[str] = []
    regex = ""
    literal_length = 0
    position = 0
    for found in _LABEL.finditer(path_template):
        literal = path_template[position:found.start()]
        regex += re.escape(literal)
        literal_length += len(literal)
        label = found.group(1)
        greedy = label.endswith("+")
        labels.append(label.rstrip("+"))
        regex += "(.+)" if greedy else "([^/]+)"
        position = found.end()
    tail = path_template[position:]
    regex += re.escape(tail)
    literal_length += len(tail)
    required: list[tuple[str, str | None]] = []
    for part in filter(None, query_template.split("&")):
        key, sep, value = part.partition("=")
        required.append((key, value if sep else None))
    required_headers: list[str] = []
    shape = operation.input_shape
    if shape is not None:
        for name in shape.required_members:
            serialization = shape.members[name].serialization
            wire = str(serialization.get("name", name))
            if serialization.get("location") == "header":
                required_headers.append(wire.lower())
            elif serialization.get("location") == "querystring":
                required.append((wire, None))
    return _Route(
        operation=operation,
        method=http.get("method", "POST").upper(),
        pattern=re.compile(f"^{regex}/?$"),
        labels=tuple(labels),
        required_query=tuple(dict.fromkeys(required)),
        required_headers=tuple(required_headers),
        literal_length=literal_length,
    )


class ServiceModels:
    """Thread-safe, lazily loaded botocore models and REST routers, shared by every gateway."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, ServiceModel | None] = {}
        self._routers: dict[str, RestRouter] = {}

    @cached_property
    def _session(self) -> Any:
        return botocore.session.get_session()

    def model(self, service: str) -> ServiceModel | None:
        with self._lock:
            if service in self._models:
                return self._models[service]
        try:
            model: ServiceModel | None = self._session.get_service_model(service)
        except UnknownServiceError:
            model = None
        with self._lock:
            return self._models.setdefault(service, model)

    def router(self, service: str) -> RestRouter | None:
        with self._lock:
            router = self._routers.get(service)
        if router is not None:
            return router
        model = self.model(service)
        if model is None:
            return None
        router = RestRouter(model)
        with self._lock:
            return self._routers.setdefault(service, router)

    def operation(self, service: str, name: str) -> OperationModel | None:
        model = self.model(service)
        if model is None or name not in model.operation_names:
            return None
        return model.operation_model(name)

    def preload(self, services: tuple[str, ...]) -> None:
        """Load models (and REST routers) ahead of the first call, so it pays no loading cost."""
        for service in services:
            model = self.model(service)
            if model is not None and model.protocol.startswith("rest"):
                self.router(service)


MODELS = ServiceModels()
