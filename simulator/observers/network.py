"""Network observers: the remote address a finding names is blocked, at the subnet edge or at the bucket.

The address comes from the injected finding itself (``service.action``: the remote party of a
connection, every prober of a port probe, the caller of an API). At the subnet edge it counts as
blocked when the entry of the subnet's network ACL that decides traffic with it (the lowest-numbered
entry whose range holds it) denies all protocols, in the direction that matters: inbound when the
remote party came in (attacks, probes, API calls), outbound when the instance reached out. The deny must
be narrow (a /24 or smaller, /48 for IPv6): denying half the internet is an outage, not a block. At a
bucket it counts when the bucket policy denies everyone object reads from that address.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
from collections.abc import Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from simulator.observers.base import Observer
from simulator.observers.clients import sandbox_client
from simulator.observers.registry import register
from simulator.targets.base import Sandbox

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# The widest deny that still counts as blocking one party.
WIDEST_BLOCK = {4: 24, 6: 48}


def remote_addresses(finding: Mapping[str, Any]) -> list[tuple[Address, bool]]:
    """(address, outbound) for every remote party the finding's action names, without repeats."""
    service = finding.get("service")
    action = service.get("action") if isinstance(service, Mapping) else None
    found: dict[Address, bool] = {}
    for name, body in (action.items() if isinstance(action, Mapping) else ()):
        if name == "actionType" or not isinstance(body, Mapping):
            continue
        outbound = str(body.get("connectionDirection", "")).upper() == "OUTBOUND"
        details = [body.get("remoteIpDetails")]
        probes = body.get("portProbeDetails")
        details += [probe.get("remoteIpDetails") for probe in probes if isinstance(probe, Mapping)] \
            if isinstance(probes, list) else []
        for detail in details:
            if not isinstance(detail, Mapping):
                continue
            for key in ("ipAddressV4", "ipAddressV6"):
                value = detail.get(key)
                try:
                    address = ipaddress.ip_address(value) if isinstance(value, str) else None
                except ValueError:
                    address = None
                if address is None:
                    continue
                found.setdefault(address, outbound)
    return list(found.items())


def _network(entry: Mapping[str, Any]) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    block = entry.get("CidrBlock") or entry.get("Ipv6CidrBlock")
    try:
        return ipaddress.ip_network(block) if block else None
    except ValueError:
        return None


def acl_verdict(acl: Mapping[str, Any], address: Address, *, egress: bool) -> str | None:
    """None when the ACL blocks the address in that direction, else what lets it through."""
    matching = []
    for entry in acl.get("Entries", []):
        network = _network(entry)
        if bool(entry.get("Egress")) == egress and network is not None and network.version == address.version \
                and address in network:
            matching.append((int(entry["RuleNumber"]), entry, network))
    if not matching:
        return None  # nothing matches: the implicit deny
    number, entry, network = min(matching, key=lambda item: item[0])
    direction = "outbound" if egress else "inbound"
    if entry.get("RuleAction") != "deny":
        return f"{direction} rule #{number} ({network}) allows {address}"
    if str(entry.get("Protocol")) != "-1":
        return f"{direction} rule #{number} denies {address} for protocol {entry.get('Protocol')} only"
    if network.prefixlen < WIDEST_BLOCK[address.version]:
        return f"{direction} rule #{number} denies all of {network}, not just {address}"
    return None


# ---------------------------------------------------------------- bucket policies


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _covers(patterns: Any, value: str) -> bool:
    return any(isinstance(p, str) and fnmatch.fnmatchcase(value.lower(), p.lower()) for p in _as_list(patterns))


def _everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and "*" in _as_list(principal.get("AWS"))


def _source_ranges(block: Any) -> list[Any]:
    if not isinstance(block, Mapping):
        return []
    ranges = []
    for key, values in block.items():
        if str(key).lower() == "aws:sourceip":
            for value in _as_list(values):
                try:
                    ranges.append(ipaddress.ip_network(str(value), strict=False))
                except ValueError:
                    continue
    return ranges


def statement_denies(statement: Mapping[str, Any], address: Address, object_arn: str) -> bool:
    """The statement denies everyone reading ``object_arn`` from ``address`` (IpAddress or NotIpAddress)."""
    if statement.get("Effect") != "Deny" or not _everyone(statement.get("Principal")) or "NotAction" in statement:
        return False
    if not _covers(statement.get("Action"), "s3:GetObject") or not _covers(statement.get("Resource"), object_arn):
        return False
    conditions = statement.get("Condition") or {}
    if not isinstance(conditions, Mapping) or set(conditions) - {"IpAddress", "NotIpAddress"}:
        return False
    inside = [r for r in _source_ranges(conditions.get("IpAddress")) if r.version == address.version]
    allowed = _source_ranges(conditions.get("NotIpAddress"))
    if not inside and not allowed:
        return False  # a deny of everyone from everywhere is a lockdown, not a block of one party
    if "IpAddress" in conditions and not any(address in r and r.prefixlen >= WIDEST_BLOCK[address.version]
                                             for r in inside):
        return False
    return not any(address in r for r in allowed if r.version == address.version)


def policy_statements(document: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return
    if isinstance(document, Mapping):
        for statement in _as_list(document.get("Statement", [])):
            if isinstance(statement, Mapping):
                yield statement


@register("remote_ip_blocked", "instance", "subnet", "bucket")
class RemoteIpBlocked(Observer):
    """Every remote address the finding names is blocked: in the network ACL of the instance's (or the
    named) subnets, or by the named bucket's policy."""

    causing_operations = frozenset({"CreateNetworkAclEntry", "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation",
                                    "PutBucketPolicy"})

    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        self.remotes = remote_addresses(finding)
        self.bucket: str | None = None
        self.subnets: list[str] = []
        if "bucket" in self.params:
            descriptor = self.resource("bucket")
            self.bucket = descriptor.get("bucket_name") or descriptor["id"]
            self.resource_ids.add(str(self.bucket))
        elif "subnet" in self.params:
            self.subnets = [self.resource("subnet")["id"]]
        else:
            instance = self.resource("instance")
            subnets = [nic.get("subnet_id") for nic in instance.get("network_interfaces") or []]
            self.subnets = [s for s in dict.fromkeys([*subnets, instance.get("subnet_id")]) if s]
        self.resource_ids.update(self.subnets)

    def prepare(self, sandbox: Sandbox) -> None:
        super().prepare(sandbox)
        for subnet in self.subnets:
            acl = self._acl(sandbox, subnet)
            if acl:
                # Association ids are what ReplaceNetworkAclAssociation names.
                self.resource_ids.update(a["NetworkAclAssociationId"] for a in acl.get("Associations", [])
                                         if a.get("SubnetId") == subnet and a.get("NetworkAclAssociationId"))

    def check(self, sandbox: Sandbox) -> bool:
        if not self.remotes:
            self.detail = "the finding names no remote address"
            return False
        gaps = self._bucket_gaps(sandbox) if self.bucket else self._acl_gaps(sandbox)
        if gaps:
            self.detail = "; ".join(gaps)
            return False
        self.detail = None
        return True

    def _acl(self, sandbox: Sandbox, subnet: str) -> dict[str, Any] | None:
        acls = sandbox_client(sandbox, "ec2").describe_network_acls(
            Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"]
        if not acls:
            return None
        self.resource_ids.add(acls[0]["NetworkAclId"])
        return dict(acls[0])

    def _acl_gaps(self, sandbox: Sandbox) -> list[str]:
        gaps = []
        for subnet in self.subnets:
            acl = self._acl(sandbox, subnet)
            if acl is None:
                gaps.append(f"subnet {subnet} has no network ACL")
                continue
            for address, outbound in self.remotes:
                verdict = acl_verdict(acl, address, egress=outbound)
                if verdict:
                    gaps.append(f"{acl['NetworkAclId']} of {subnet}: {verdict}")
        return gaps

    def _bucket_gaps(self, sandbox: Sandbox) -> list[str]:
        try:
            policy = sandbox_client(sandbox, "s3").get_bucket_policy(Bucket=self.bucket)["Policy"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("NoSuchBucketPolicy", "NoSuchBucket"):
                raise
            return [f"bucket {self.bucket} has no policy"]
        object_arn = f"arn:aws:s3:::{self.bucket}/any-object"
        statements = list(policy_statements(policy))
        return [f"bucket {self.bucket}'s policy does not deny {address}" for address, _ in self.remotes
                if not any(statement_denies(statement, address, object_arn) for statement in statements)]
