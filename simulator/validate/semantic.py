"""GuardDuty's own rules for a finding, beyond what the model's shapes can say.

Each rule registers itself with ``@rule``; ``RULES`` lists them and ``run_rules`` runs all or some.
Rules read the finding defensively: a value of the wrong type is the shape check's to report, so a
rule skips what it cannot read rather than report it twice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simulator.catalog import SEVERITY_BANDS, FindingType, active_types, retired_types
from simulator.validate.formats import (
    ACCOUNT_ID,
    LOWER_HEX,
    ip_version,
    looks_like_region,
    parse_iso8601,
    partition_for_region,
)
from simulator.validate.issues import Issue, child, describe

SCHEMA_VERSION = "2.0"
# EventBridge refuses entries over 256 KB, so a larger finding can never reach a responder.
MAX_EVENT_BYTES = 256 * 1024
MAX_ID_LENGTH = 300  # the model's FindingId and DetectorId bounds
_LARGEST_NUMBER = 10**308
_MAX_DEPTH = 64  # far deeper than any member of the model

_BAND_ORDER = list(SEVERITY_BANDS)
RESOURCE_ROLES = frozenset({"ACTOR", "TARGET"})

# resource.resourceType -> the resource member that carries its details.
RESOURCE_DETAILS: dict[str, str] = {
    "Instance": "instanceDetails",
    "AccessKey": "accessKeyDetails",
    "S3Bucket": "s3BucketDetails",
    "EKSCluster": "eksClusterDetails",
    "ECSCluster": "ecsClusterDetails",
    "Container": "containerDetails",
    "Lambda": "lambdaDetails",
    "RDSDBInstance": "rdsDbInstanceDetails",
    "RDSLimitlessDB": "rdsLimitlessDbDetails",
    "EBSSnapshot": "ebsSnapshotDetails",
    "EC2Image": "ec2ImageDetails",
    "RecoveryPoint": "recoveryPointDetails",
}

# service.action.actionType -> the action member that carries its details.
ACTION_DETAILS: dict[str, str] = {
    "NETWORK_CONNECTION": "networkConnectionAction",
    "PORT_PROBE": "portProbeAction",
    "DNS_REQUEST": "dnsRequestAction",
    "AWS_API_CALL": "awsApiCallAction",
    "KUBERNETES_API_CALL": "kubernetesApiCallAction",
    "RDS_LOGIN_ATTEMPT": "rdsLoginAttemptAction",
}

# The catalog's data source (lower-case prefix) -> the action types findings from it carry.
_ACTIONS_BY_DATA_SOURCE: tuple[tuple[str, frozenset[str]], ...] = (
    ("vpc flow logs", frozenset({"NETWORK_CONNECTION", "PORT_PROBE"})),
    ("dns logs", frozenset({"DNS_REQUEST"})),
    ("cloudtrail", frozenset({"AWS_API_CALL"})),
    ("eks audit logs", frozenset({"KUBERNETES_API_CALL"})),
    ("rds login activity", frozenset({"RDS_LOGIN_ATTEMPT"})),
)

# Default severities GuardDuty has since changed, as shown by findings it delivered at the time:
# foxsec's 2019 sample Recon:EC2/PortProbeEMRUnprotectedPort carries 2 (Low); the band is High today.
PAST_SEVERITY_LABELS: dict[str, tuple[str, ...]] = {
    "Recon:EC2/PortProbeEMRUnprotectedPort": ("Low",),
}

# Members holding one IP address (or a list of them) -> the IP version required, 0 for either.
_IP_MEMBERS: dict[str, int] = {"ipAddressV4": 4, "ipAddressV6": 6, "privateIpAddress": 0, "publicIp": 0}
_IP_LIST_MEMBERS: dict[str, int] = {"ipv6Addresses": 6, "sourceIPs": 0}


@dataclass(frozen=True)
class Context:
    """What a rule sees: the finding, where it sits in its document, and the caller's leniency."""

    finding: dict[str, Any]
    root: str = "$"
    allow_retired: bool = False

    def path(self, *keys: str) -> str:
        path = self.root
        for key in keys:
            path = child(path, key)
        return path

    def get(self, *keys: str) -> Any:
        """The value at ``keys``, or None if any step is missing or not an object."""
        node: Any = self.finding
        for key in keys:
            if not isinstance(node, dict):
                return None
            node = node.get(key)
        return node

    def text(self, *keys: str) -> str | None:
        value = self.get(*keys)
        return value if isinstance(value, str) else None

    def number(self, *keys: str) -> float | None:
        """A finite number at ``keys``; anything else is the shape check's to report."""
        value = self.get(*keys)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, int) and abs(value) > _LARGEST_NUMBER:
            return None
        return value

    def time(self, *keys: str) -> datetime | None:
        value = self.text(*keys)
        return parse_iso8601(value) if value is not None else None

    @property
    def finding_type(self) -> FindingType | None:
        name = self.text("type")
        return active_types().get(name) if name else None


RuleCheck = Callable[[Context], Iterator[Issue]]


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    check: RuleCheck


RULES: dict[str, Rule] = {}


def rule(rule_id: str, summary: str) -> Callable[[RuleCheck], RuleCheck]:
    """Register a semantic rule under ``rule_id``; its issues carry that id."""

    def register(check: RuleCheck) -> RuleCheck:
        if rule_id in RULES:
            raise ValueError(f"semantic rule {rule_id!r} registered twice")
        RULES[rule_id] = Rule(rule_id, summary, check)
        return check

    return register


def run_rules(finding: dict[str, Any], *, root: str = "$", allow_retired: bool = False,
              only: Collection[str] | None = None) -> list[Issue]:
    """Run every registered rule (or the ``only`` ones) over one finding."""
    if only is not None:
        unknown = set(only) - set(RULES)
        if unknown:
            raise ValueError(f"no such semantic rule: {', '.join(sorted(unknown))}")
    context = Context(finding, root, allow_retired)
    issues: list[Issue] = []
    for rule_id, registered in RULES.items():
        if only is None or rule_id in only:
            issues.extend(registered.check(context))
    return issues


# --- identity -------------------------------------------------------------------------------------

@rule("schema-version", f'schemaVersion is "{SCHEMA_VERSION}"')
def _schema_version(ctx: Context) -> Iterator[Issue]:
    value = ctx.text("schemaVersion")
    if value is not None and value != SCHEMA_VERSION:
        yield Issue(ctx.path("schemaVersion"), f"{describe(value)}; GuardDuty findings are schema "
                                               f"{SCHEMA_VERSION}", "schema-version")


@rule("unknown-type", "type is a finding type GuardDuty documents")
def _unknown_type(ctx: Context) -> Iterator[Issue]:
    name = ctx.text("type")
    if name is None or name in active_types() or name in retired_types():
        return
    close = [known for known in active_types() if known.lower() == name.lower()]
    hint = f"; did you mean {close[0]!r}?" if close else "; `simulate list types` shows the known types"
    yield Issue(ctx.path("type"), f"unknown finding type {describe(name)}{hint}", "unknown-type")


@rule("retired-type", "type is not one GuardDuty has retired (a warning with allow_retired)")
def _retired_type(ctx: Context) -> Iterator[Issue]:
    name = ctx.text("type")
    if name is None or name not in retired_types():
        return
    if ctx.allow_retired:
        yield Issue(ctx.path("type"), f"finding type {name!r} is retired; GuardDuty no longer produces it",
                    "retired-type", "warning")
    else:
        yield Issue(ctx.path("type"), f"finding type {name!r} is retired; GuardDuty no longer produces it "
                                      "(--allow-retired accepts old findings with a warning)", "retired-type")


@rule("finding-id", "id is lowercase hex, as GuardDuty issues them")
def _finding_id(ctx: Context) -> Iterator[Issue]:
    value = ctx.text("id")
    if value is None:
        return
    if not LOWER_HEX.match(value) or len(value) > MAX_ID_LENGTH:
        yield Issue(ctx.path("id"), f"{describe(value)} is not a GuardDuty finding id (lowercase hex, "
                                    "32 characters)", "finding-id")


@rule("account-id", "accountId is 12 digits")
def _account_id(ctx: Context) -> Iterator[Issue]:
    value = ctx.text("accountId")
    if value is not None and not ACCOUNT_ID.match(value):
        yield Issue(ctx.path("accountId"), f"{describe(value)} is not a 12-digit AWS account id", "account-id")


@rule("region", "region names an AWS region and partition matches it")
def _region(ctx: Context) -> Iterator[Issue]:
    region = ctx.text("region")
    if region is None:
        return
    if not looks_like_region(region):
        yield Issue(ctx.path("region"), f"{describe(region)} is not an AWS region name", "region")
        return
    partition = ctx.text("partition")
    expected = partition_for_region(region)
    if partition is not None and expected is not None and partition != expected:
        yield Issue(ctx.path("partition"), f"{describe(partition)}, but region {region} is in partition "
                                           f"{expected}", "region")


@rule("service", "service is present, names guardduty, a lowercase-hex detectorId and an ACTOR/TARGET role")
def _service(ctx: Context) -> Iterator[Issue]:
    service = ctx.get("service")
    if service is None:
        yield Issue(ctx.path("service"), "missing; GuardDuty always says which detector found it and when",
                    "service")
        return
    if not isinstance(service, dict):
        return
    name = ctx.text("service", "serviceName")
    if name is not None and name != "guardduty":
        yield Issue(ctx.path("service", "serviceName"), f'{describe(name)}; GuardDuty writes "guardduty"',
                    "service")
    role = ctx.text("service", "resourceRole")
    if role is not None and role not in RESOURCE_ROLES:
        yield Issue(ctx.path("service", "resourceRole"), f"{describe(role)}; GuardDuty writes ACTOR or TARGET",
                    "service")
    detector = ctx.get("service", "detectorId")
    if detector is None:
        yield Issue(ctx.path("service", "detectorId"), "missing; every finding names its detector", "service")
    elif isinstance(detector, str) and (not LOWER_HEX.match(detector) or len(detector) > MAX_ID_LENGTH):
        yield Issue(ctx.path("service", "detectorId"), f"{describe(detector)} is not a detector id "
                                                       "(lowercase hex)", "service")


@rule("arn", "arn is arn:PARTITION:guardduty:REGION:ACCOUNT:detector/DETECTOR/finding/ID of this finding")
def _arn(ctx: Context) -> Iterator[Issue]:
    arn = ctx.text("arn")
    if arn is None:
        return
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "guardduty":
        yield Issue(ctx.path("arn"), f"{describe(arn)} is not a GuardDuty finding ARN "
                                     "(arn:aws:guardduty:REGION:ACCOUNT:detector/ID/finding/ID)", "arn")
        return
    _, partition, _, region, account, resource = parts
    pieces = resource.split("/")
    if len(pieces) != 4 or pieces[0] != "detector" or pieces[2] != "finding":
        yield Issue(ctx.path("arn"), f"resource part {describe(resource)} is not detector/ID/finding/ID", "arn")
        return
    expected = {
        "partition": (partition, ctx.text("partition")),
        "region": (region, ctx.text("region")),
        "accountId": (account, ctx.text("accountId")),
        "service.detectorId": (pieces[1], ctx.text("service", "detectorId")),
        "id": (pieces[3], ctx.text("id")),
    }
    for field, (in_arn, in_finding) in expected.items():
        if in_finding is not None and in_arn != in_finding:
            yield Issue(ctx.path("arn"), f"names {field} {describe(in_arn)} but the finding's {field} is "
                                         f"{describe(in_finding)}", "arn")


# --- times and counts -----------------------------------------------------------------------------

@rule("time-order", "createdAt <= updatedAt and service.eventFirstSeen <= service.eventLastSeen")
def _time_order(ctx: Context) -> Iterator[Issue]:
    created, updated = ctx.time("createdAt"), ctx.time("updatedAt")
    if created is not None and updated is not None and updated < created:
        yield Issue(ctx.path("updatedAt"), f"{ctx.text('updatedAt')} is before createdAt "
                                           f"{ctx.text('createdAt')}", "time-order")
    first, last = ctx.time("service", "eventFirstSeen"), ctx.time("service", "eventLastSeen")
    if first is not None and last is not None and last < first:
        yield Issue(ctx.path("service", "eventLastSeen"),
                    f"{ctx.text('service', 'eventLastSeen')} is before eventFirstSeen "
                    f"{ctx.text('service', 'eventFirstSeen')}", "time-order")


@rule("count", "service.count is at least 1")
def _count(ctx: Context) -> Iterator[Issue]:
    count = ctx.get("service", "count")
    if type(count) is int and count < 1:
        yield Issue(ctx.path("service", "count"), f"{count}; a finding has occurred at least once", "count")


@rule("severity-band", "severity lies in the type's documented band(s); the whole Low-High scale for Low* types")
def _severity_band(ctx: Context) -> Iterator[Issue]:
    severity = ctx.number("severity")
    if severity is None:
        return
    name = ctx.text("type") or ""
    labels = _band_labels(name)
    if labels is None:
        labels = ("Low", "Medium", "High", "Critical")  # an unknown type: only the scale itself
        where = "GuardDuty's severity scale"
    else:
        where = f"{name}'s band ({'/'.join(labels)})"
    if not any(_in_band(severity, label) for label in labels):
        spans = ", ".join(f"{SEVERITY_BANDS[label][0]:.1f}-{SEVERITY_BANDS[label][1]:.1f}" for label in labels)
        yield Issue(ctx.path("severity"), f"{severity:g} is outside {where}: {spans}", "severity-band")


def _in_band(severity: float, label: str) -> bool:
    # A band's top (3.9) reaches up to the next band's start (4.0); only Critical ends at 10.0.
    low, top = SEVERITY_BANDS[label]
    return low <= severity <= top if top == 10.0 else low <= severity < round(top + 0.1, 1)


def _band_labels(name: str) -> tuple[str, ...] | None:
    """The severity labels a finding of this type may carry; None when the type is not known."""
    finding_type = active_types().get(name)
    if finding_type is not None:
        labels: tuple[str, ...] = finding_type.severity_labels
        if finding_type.severity_varies and len(labels) == 1:
            # "Low*": the documented default, which the detail can move anywhere on the Low-High scale.
            # A list ("Medium|High") names every severity the type's signals carry, so it stands as is.
            labels = ("Low", "Medium", "High", *(("Critical",) if "Critical" in labels else ()))
        return tuple(sorted({*labels, *PAST_SEVERITY_LABELS.get(name, ())}, key=_BAND_ORDER.index))
    retired = retired_types().get(name)
    if retired is not None:
        text = retired.get("last_known_severity", "").rstrip("*")
        known = tuple(label for label in text.split("|") if label in SEVERITY_BANDS)
        if known and not retired.get("last_known_severity", "").endswith("*"):
            return known
        return ("Low", "Medium", "High")
    return None


# --- resource and action coherence ----------------------------------------------------------------

@rule("resource-type", "resource.resourceType is one the type's catalog entry documents")
def _resource_type(ctx: Context) -> Iterator[Issue]:
    finding_type = ctx.finding_type
    value = ctx.text("resource", "resourceType")
    if finding_type is None or value is None or not finding_type.resource_types:
        return
    if value not in finding_type.resource_types:
        yield Issue(ctx.path("resource", "resourceType"),
                    f"{describe(value)}, but {finding_type.name} findings are about "
                    f"{' or '.join(finding_type.resource_types)}", "resource-type")


@rule("resource-details", "the resource member for resource.resourceType is present")
def _resource_details(ctx: Context) -> Iterator[Issue]:
    value = ctx.text("resource", "resourceType")
    member = RESOURCE_DETAILS.get(value or "")
    if member is None:
        return
    details = ctx.get("resource", member)
    if details is None or details == [] or details == {}:
        yield Issue(ctx.path("resource", member), f"missing; a {value} finding describes its {value} here",
                    "resource-details")


@rule("action-type", "service.action.actionType fits the type (!DNS -> DNS_REQUEST, PortProbe -> PORT_PROBE...)")
def _action_type(ctx: Context) -> Iterator[Issue]:
    finding_type = ctx.finding_type
    if finding_type is None:
        return
    allowed, required = allowed_actions(finding_type)
    if allowed is None:
        return
    if not isinstance(ctx.get("service"), dict):
        return  # missing or mistyped: the service rule or the shape check says so
    action = ctx.get("service", "action")
    action_type = ctx.text("service", "action", "actionType")
    expected = " or ".join(sorted(allowed))
    if action is None:
        if required:
            yield Issue(ctx.path("service", "action"), f"missing; {finding_type.name} findings carry actionType "
                                                       f"{expected}", "action-type")
    elif isinstance(action, dict) and "actionType" not in action:
        yield Issue(ctx.path("service", "action", "actionType"), f"missing; {finding_type.name} findings carry "
                                                                 f"{expected}", "action-type")
    elif action_type is not None and action_type not in allowed:
        yield Issue(ctx.path("service", "action", "actionType"),
                    f"{describe(action_type)}, but {finding_type.name} findings carry {expected}", "action-type")


def allowed_actions(finding_type: FindingType) -> tuple[frozenset[str] | None, bool]:
    """The action types a finding of this type may carry (None: any), and whether it must carry one.

    The data source decides both where the catalog names one whose findings always describe an action
    (flow logs, DNS logs, CloudTrail, EKS audit logs, RDS logins). The name narrows the action type
    (``!DNS``, ``PortProbe...``) wherever an action is present, Runtime Monitoring's included.
    """
    by_source: frozenset[str] | None = None
    source = finding_type.data_source.lower()
    if finding_type.status != "active_cdr":
        for prefix, actions in _ACTIONS_BY_DATA_SOURCE:
            if source.startswith(prefix):
                by_source = actions
                break
    by_name: frozenset[str] | None = None
    if finding_type.artifact == "DNS":
        by_name = frozenset({"DNS_REQUEST"})
    elif finding_type.name.split("/", 1)[-1].startswith("PortProbe"):
        by_name = frozenset({"PORT_PROBE"})
    if by_name is None:
        return by_source, by_source is not None
    return by_name, by_source is not None


@rule("action-details", "the action member for service.action.actionType is present, and no other")
def _action_details(ctx: Context) -> Iterator[Issue]:
    action = ctx.get("service", "action")
    action_type = ctx.text("service", "action", "actionType")
    if not isinstance(action, dict) or action_type not in ACTION_DETAILS:
        return
    member = ACTION_DETAILS[action_type]
    if action.get(member) is None:
        yield Issue(ctx.path("service", "action", member), f"missing; a {action_type} action is described here",
                    "action-details")
    for other_type, other in ACTION_DETAILS.items():
        if other != member and action.get(other) is not None:
            yield Issue(ctx.path("service", "action", other),
                        f"present, but actionType is {action_type} (this member belongs to {other_type})",
                        "action-details")


# --- values ---------------------------------------------------------------------------------------

@rule("ip-address", "every IP address member holds a well-formed address of the right version")
def _ip_address(ctx: Context) -> Iterator[Issue]:
    yield from _walk_ips(ctx.finding, (), ctx.root)


def _at(root: str, trail: tuple[str | int, ...]) -> str:
    """The JSON path of a trail of keys and indexes, built only when there is something to report."""
    path = root
    for step in trail:
        path = f"{path}[{step}]" if isinstance(step, int) else child(path, step)
    return path


def _walk_ips(node: Any, trail: tuple[str | int, ...], root: str) -> Iterator[Issue]:
    if len(trail) > _MAX_DEPTH:
        return  # hostile nesting: nothing the model describes lives down there
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                want = _IP_MEMBERS.get(key, -1)
                if want != -1:
                    version = ip_version(value)
                    if version is None or (want and version != want):
                        kind = f"an IPv{want}" if want else "an IP"
                        yield Issue(_at(root, (*trail, key)), f"{describe(value)} is not {kind} address",
                                    "ip-address")
            elif isinstance(value, list) and key in _IP_LIST_MEMBERS:
                want = _IP_LIST_MEMBERS[key]
                for index, item in enumerate(value):
                    if isinstance(item, str):
                        version = ip_version(item)
                        if version is None or (want and version != want):
                            kind = f"an IPv{want}" if want else "an IP"
                            yield Issue(_at(root, (*trail, key, index)), f"{describe(item)} is not {kind} address",
                                        "ip-address")
            elif isinstance(value, dict | list):
                yield from _walk_ips(value, (*trail, key), root)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            if isinstance(item, dict | list):
                yield from _walk_ips(item, (*trail, index), root)


@rule("size", "the finding fits in one EventBridge event (256 KB)")
def _size(ctx: Context) -> Iterator[Issue]:
    try:
        size = len(json.dumps(ctx.finding, separators=(",", ":"), default=str).encode())
    except (RecursionError, ValueError):
        yield Issue(ctx.root, "cannot be written as JSON (nested too deeply, or contains itself)", "size")
        return
    if size > MAX_EVENT_BYTES:
        yield Issue(ctx.root, f"{size} bytes; EventBridge delivers at most {MAX_EVENT_BYTES} bytes per event, "
                              "so no responder could receive it", "size")
