"""The scenario file's shape: a runbook as data (pydantic models, validated field by field).

Cross-references between fields (a step naming an instance that exists, a finding bound to a resource
its type can name...) are checked in ``checks.py`` so every problem in a file is reported at once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    computed_field,
    model_validator,
)
from pydantic_core import PydanticCustomError

from simulator.scenario.durations import DURATION_HINT, parse_duration


def _error(code: str, message: str, fix: str = "") -> PydanticCustomError:
    # Messages quote user input, which may hold braces; the template language must not see them.
    escaped = message.replace("{", "{{").replace("}", "}}")
    return PydanticCustomError(code, escaped, {"fix": fix})


# ---------------------------------------------------------------- value types


@dataclass(frozen=True)
class Duration:
    """A runbook duration: seconds plus the text the author wrote ("5m")."""

    seconds: float
    text: str


def _to_duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise _error("duration", f"{value!r} has no unit", DURATION_HINT)
    if not isinstance(value, str):
        raise _error("duration", f"{value!r} is not a duration", DURATION_HINT)
    try:
        return Duration(parse_duration(value), value.strip())
    except ValueError as exc:
        raise _error("duration", str(exc), DURATION_HINT) from None


DurationValue = Annotated[Duration, PlainValidator(_to_duration), PlainSerializer(lambda d: d.text)]

_NAME_PATTERN = "lower-case letters, digits and hyphens, starting with a letter, at most 40 characters"


def _logical_name(value: str) -> str:
    if not (0 < len(value) <= 40 and value[0].isascii() and value[0].islower()
            and all(c.isascii() and (c.islower() or c.isdigit() or c == "-") for c in value)):
        raise _error("logical_name", f"{value!r} is not a valid name", f"use {_NAME_PATTERN}")
    return value


LogicalName = Annotated[str, AfterValidator(_logical_name)]


def _cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise _error("cidr", f"{value!r} is not an IPv4 CIDR block", "write it like 10.20.1.0/24") from None
    return str(network)


Cidr = Annotated[str, AfterValidator(_cidr)]


def _block_cidr(value: str) -> str:
    prefix = ipaddress.IPv4Network(value).prefixlen
    if not 16 <= prefix <= 28:
        raise _error("cidr", f"{value!r} has a /{prefix} prefix", "AWS allows /16 to /28 for VPCs and subnets")
    return value


BlockCidr = Annotated[Cidr, AfterValidator(_block_cidr)]


def _scalar_to_str(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(_scalar_to_str)]


def _tag_key(value: str) -> str:
    if value.lower().startswith(("aws:", "gdsim:")):
        raise _error("tag", f"tag key {value!r} is reserved",
                     "keys starting with aws: or gdsim: belong to AWS and the harness")
    if not 0 < len(value) <= 128:
        raise _error("tag", f"tag key {value!r} must have 1 to 128 characters")
    return value


Tags = dict[Annotated[str, AfterValidator(_tag_key)], Annotated[Text, Field(max_length=256)]]

_POLICY_ARN_PREFIXES = ("arn:aws:iam::aws:policy/",)


def _policy_arn(value: str) -> str:
    parts = value.split(":")
    account = parts[4] if len(parts) > 5 else ""
    if not (value.startswith(_POLICY_ARN_PREFIXES) or (len(parts) == 6 and account.isdigit() and len(account) == 12
                                                        and parts[5].startswith("policy/"))):
        raise _error("policy_arn", f"{value!r} is not a managed policy ARN",
                     "write arn:aws:iam::aws:policy/NAME or arn:aws:iam::ACCOUNT:policy/NAME")
    return value


PolicyArn = Annotated[str, AfterValidator(_policy_arn)]


def _policy_document(value: dict[str, Any]) -> dict[str, Any]:
    if "Statement" not in value:
        raise _error("policy", "a policy document needs a Statement", "write {Version: '2012-10-17', Statement: [...]}")
    return value


PolicyDocument = Annotated[dict[str, Any], AfterValidator(_policy_document)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# ---------------------------------------------------------------- environment


class _Resource(_Model):
    name: LogicalName
    tags: Tags = {}
    bystander: bool = Field(False, description="must never be touched by a responder")


class Vpc(_Resource):
    cidr: BlockCidr


class Subnet(_Resource):
    cidr: BlockCidr
    zone: str | None = Field(None, description="availability zone name or its letter ('a'); default spreads over zones")


class Rule(_Model):
    protocol: Literal["tcp", "udp", "icmp", "all"] = "tcp"
    ports: int | str | None = Field(None, description="443, or a range '1024-65535'; required for tcp and udp")
    cidr: Cidr
    description: str = ""

    @model_validator(mode="after")
    def _ports_fit_protocol(self) -> Rule:
        if self.protocol in ("tcp", "udp"):
            if self.ports is None:
                raise _error("ports", f"a {self.protocol} rule needs ports", "write ports: 443 or ports: 1024-65535")
            self.port_range()
        elif self.ports is not None:
            raise _error("ports", f"a {self.protocol} rule takes no ports", "remove ports")
        return self

    def port_range(self) -> tuple[int, int]:
        """(from, to); (-1, -1) for icmp and all."""
        if self.ports is None:
            return -1, -1
        text = str(self.ports)
        low, _, high = text.partition("-")
        try:
            start, end = int(low), int(high or low)
        except ValueError:
            raise _error("ports", f"{text!r} is not a port or port range", "write 443 or 1024-65535") from None
        if not 0 <= start <= end <= 65535:
            raise _error("ports", f"{text!r} is out of 0-65535 or reversed", "write 443 or 1024-65535")
        return start, end


class SecurityGroup(_Resource):
    description: str = "managed by gdsim"
    ingress: list[Rule] = []
    egress: list[Rule] | None = Field(None, description="default: AWS's allow-all egress rule")


class Role(_Resource):
    service: str = Field("ec2.amazonaws.com", description="the service principal trusted to assume the role")
    instance_profile: bool = False
    managed_policies: list[PolicyArn] = []
    inline_policies: dict[str, PolicyDocument] = {}


class Volume(_Model):
    device: Annotated[str, Field(pattern=r"^/dev/(sd[b-z]|xvd[b-z])$")]
    size_gb: int = Field(ge=1, le=16384)
    type: Literal["gp3", "gp2", "io1", "io2", "st1", "sc1", "standard"] = "gp3"


class Instance(_Resource):
    subnet: LogicalName
    role: LogicalName | None = None
    security_groups: list[LogicalName] = Field([], description="default: the environment's first security group")
    instance_type: Annotated[str, Field(pattern=r"^[a-z0-9-]+\.[a-z0-9]+$")] = "t3.micro"
    image: Annotated[str, Field(pattern=r"^ami-[0-9a-f]{8,17}$")] | None = Field(
        None, description="an AMI id; default: a stock Linux image")
    root_size_gb: int = Field(8, ge=1, le=16384)
    volumes: list[Volume] = []
    public_ip: bool = False
    extra_interfaces: int = Field(0, ge=0, le=3, description="network interfaces beyond the primary one")


class User(_Resource):
    access_keys: int = Field(0, ge=0, le=2)
    console_password: bool = False
    managed_policies: list[PolicyArn] = []
    inline_policies: dict[str, PolicyDocument] = {}

    @model_validator(mode="before")
    @classmethod
    def _access_key_shorthand(cls, value: Any) -> Any:
        # `access_key: true` reads better for the common single-key user.
        if isinstance(value, dict) and "access_key" in value and "access_keys" not in value:
            value = dict(value)
            flag = value.pop("access_key")
            value["access_keys"] = 1 if flag is True else 0 if flag is False else flag
        return value


class Bucket(_Resource):
    block_public_access: bool = True
    versioning: bool = False
    policy: PolicyDocument | None = None
    objects: dict[str, str] = Field({}, description="object key -> text content")


class Topic(_Resource):
    pass


DEFAULT_SECURITY_GROUP = "app-sg"


class Environment(_Model):
    vpc: Vpc | None = None
    subnets: list[Subnet] = []
    security_groups: list[SecurityGroup] = []
    roles: list[Role] = []
    instances: list[Instance] = []
    users: list[User] = []
    buckets: list[Bucket] = []
    topics: list[Topic] = []

    def resources(self) -> Iterator[tuple[str, _Resource]]:
        """(kind, model) for every resource, in the order they are built."""
        if self.vpc is not None:
            yield "vpc", self.vpc
        for kind, items in (("subnet", self.subnets), ("security_group", self.security_groups),
                            ("role", self.roles), ("instance", self.instances), ("user", self.users),
                            ("bucket", self.buckets), ("topic", self.topics)):
            for item in items:
                yield kind, item

    def get(self, name: str) -> tuple[str, _Resource]:
        """(kind, model) of the resource with that logical name; KeyError if none."""
        for kind, item in self.resources():
            if item.name == name:
                return kind, item
        raise KeyError(name)

    def kind_of(self, name: str) -> str | None:
        try:
            return self.get(name)[0]
        except KeyError:
            return None

    @property
    def bystander_names(self) -> set[str]:
        return {item.name for _, item in self.resources() if item.bystander}


def default_security_group(vpc_cidr: str) -> dict[str, Any]:
    """The security group an environment gets when it declares none: a web tier's usual rules."""
    return {"name": DEFAULT_SECURITY_GROUP, "description": "application servers",
            "ingress": [{"protocol": "tcp", "ports": 443, "cidr": "0.0.0.0/0", "description": "HTTPS"},
                        {"protocol": "tcp", "ports": 22, "cidr": vpc_cidr, "description": "SSH from the VPC"}]}


# ---------------------------------------------------------------- findings, responder, steps


class FindingSpec(_Model):
    type: str
    # None only for types whose resource no scenario builds (the root user, EKS clusters, databases...).
    resource: LogicalName | None = None
    severity: float | None = Field(None, ge=1.0, le=10.0)
    delay: DurationValue = Duration(0.0, "0s")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def delay_seconds(self) -> float:
        return self.delay.seconds


class RuleSpec(_Model):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
    event_pattern: dict[str, Any]


class ResponderSpec(_Model):
    # module:function, path/to/file.py:function, or stepfunctions:path/to/definition.asl.json (a state machine)
    handler: Annotated[str, Field(pattern=r"^(([A-Za-z_][\w.]*|[^:]+\.py):[A-Za-z_]\w*|stepfunctions:[^:]+\.json)$")]
    timeout: DurationValue = Duration(30.0, "30s")
    retries: int = Field(2, ge=0, le=2, description="async invoke retries after a failure, as Lambda allows")
    environment: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], Text] = {}
    rule: RuleSpec

    @computed_field  # type: ignore[prop-decorator]
    @property
    def timeout_seconds(self) -> float:
        return self.timeout.seconds


class Expectation(_Model):
    kind: str
    params: dict[str, Text] = {}

    @model_validator(mode="before")
    @classmethod
    def _params_beside_kind(cls, value: Any) -> Any:
        # Files write {kind: instance_quarantined, instance: miner}; the model keeps params apart.
        if isinstance(value, dict) and "params" not in value:
            params = {key: item for key, item in value.items() if key != "kind"}
            return {"kind": value["kind"], "params": params} if "kind" in value else {"params": params}
        return value


class Step(_Model):
    id: LogicalName
    title: str = ""
    expect: Expectation
    within: DurationValue

    @model_validator(mode="before")
    @classmethod
    def _default_title(cls, value: Any) -> Any:
        if isinstance(value, dict) and not value.get("title"):
            from simulator.scenario.kinds import default_title

            expect = value.get("expect")
            if isinstance(expect, dict) and isinstance(expect.get("kind"), str):
                params = {key: item for key, item in expect.items() if key != "kind"}
                value = {**value, "title": default_title(expect["kind"], params)}
        return value

    @computed_field  # type: ignore[prop-decorator]
    @property
    def within_seconds(self) -> float:
        return self.within.seconds

    @computed_field  # type: ignore[prop-decorator]
    @property
    def within_text(self) -> str:
        return self.within.text


class EscalationLevel(_Model):
    level: int = Field(ge=1)
    contact: str = Field(min_length=1)
    after: DurationValue

    @computed_field  # type: ignore[prop-decorator]
    @property
    def after_seconds(self) -> float:
        return self.after.seconds


class EscalationPath(_Model):
    topic: LogicalName
    levels: list[EscalationLevel] = Field(min_length=1)


class OnCallSpec(_Model):
    """The people on the escalation path, as the harness plays them: who acknowledges, and how fast."""

    acknowledge_at_level: Annotated[int, Field(ge=1)] | Literal["never"] = Field(
        description="the level whose page is acknowledged, or never")
    after: DurationValue = Field(Duration(0.0, "0s"), description="how long the person takes to acknowledge")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ack_level(self) -> int | None:
        return None if self.acknowledge_at_level == "never" else int(self.acknowledge_at_level)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def after_seconds(self) -> float:
        return self.after.seconds


class Scenario(_Model):
    id: LogicalName
    title: str = Field(min_length=1)
    threat_purpose: str
    finding_types: list[str] = Field(min_length=1)
    allow_retired_types: bool = Field(False, description="inject retired types on purpose (responders still get them)")
    urgency: Literal["low", "medium", "high", "critical"]
    problem: str = Field(min_length=1)
    data_to_gather: list[str] = Field(min_length=1)
    environment: Environment
    findings: list[FindingSpec] = Field(min_length=1)
    responder: ResponderSpec
    steps: list[Step] = Field(min_length=1)
    escalation: EscalationPath
    oncall: OnCallSpec | None = Field(None, description="the harness acknowledges pages as this says")

    @model_validator(mode="after")
    def _oncall_level_exists(self) -> Scenario:
        level = self.oncall.ack_level if self.oncall is not None else None
        if level is not None and level not in {item.level for item in self.escalation.levels}:
            raise _error("oncall", f"oncall.acknowledge_at_level: level {level} is not in escalation.levels",
                         "name a level of the escalation path, or write never")
        return self

    _source_path: Path | None = PrivateAttr(None)

    @property
    def source_path(self) -> Path:
        if self._source_path is None:
            raise AttributeError("this scenario was not loaded from a file")
        return self._source_path

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)
