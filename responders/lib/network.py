"""Blocking a remote address at the subnet edge: network ACL DENY entries, ahead of every ALLOW.

A network ACL is evaluated in rule-number order and the first entry that matches decides, so a deny
takes effect only below the first entry that would allow the address. Entries go in at the lowest free
rule number (from 1), one per address and direction: NACLs are stateless, so blocking both ways also
cuts replies and reverse connections. Addresses the account itself uses (private, loopback, link-local,
metadata, the VPC's own ranges) are refused: blocking them would cut the account off, which is what a
hostile finding naming them as "remote" would want.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from responders.lib.events import EventRejected
from responders.lib.instance import error_code

# AWS's default quota: 20 rules per direction per network ACL (the catch-all * rule not counted).
RULE_LIMIT = 20
LOWEST_RULE = 1
CATCH_ALL_RULE = 32767
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class UnsafeAddress(Exception):
    """The finding names an address that must not be blocked."""


class AclFull(Exception):
    """No rule number is free ahead of the entry that allows the address (or the quota is reached)."""


@dataclass(frozen=True)
class Remote:
    """A remote party the finding names: its address and which way the traffic went."""

    address: str
    direction: str  # "inbound" | "outbound"


def _remote_details(action: Mapping[str, Any]) -> Iterable[tuple[Mapping[str, Any], str]]:
    for name, body in action.items():
        if name == "actionType" or not isinstance(body, Mapping):
            continue
        outbound = str(body.get("connectionDirection", "")).upper() == "OUTBOUND"
        direction = "outbound" if outbound else "inbound"
        if isinstance(body.get("remoteIpDetails"), Mapping):
            yield body["remoteIpDetails"], direction
        probes = body.get("portProbeDetails")
        for probe in probes if isinstance(probes, list) else []:
            if isinstance(probe, Mapping) and isinstance(probe.get("remoteIpDetails"), Mapping):
                yield probe["remoteIpDetails"], "inbound"


def remotes_of(finding: Mapping[str, Any]) -> list[Remote]:
    """Every remote address the finding's action names (IPv4 and IPv6), in order, without repeats.

    Raises UnsafeAddress for a value that is not an IP address at all.
    """
    service = finding.get("service")
    action = service.get("action") if isinstance(service, Mapping) else None
    found: dict[str, Remote] = {}
    if not isinstance(action, Mapping):
        return []
    for details, direction in _remote_details(action):
        for key in ("ipAddressV4", "ipAddressV6"):
            value = details.get(key)
            if value is None:
                continue
            try:
                address = ipaddress.ip_address(value) if isinstance(value, str) else None
            except ValueError:
                address = None
            if address is None:
                raise UnsafeAddress(f"remoteIpDetails.{key} {str(value)[:48]!r} is not an IP address")
            found.setdefault(str(address), Remote(str(address), direction))
    return list(found.values())


def remotes_named(finding: Mapping[str, Any], finding_id: str) -> list[Remote]:
    """remotes_of for an event being admitted: a value that is no IP address refuses it (EventRejected)."""
    try:
        return remotes_of(finding)
    except UnsafeAddress as exc:
        raise EventRejected(str(exc), finding_id) from None


def check_blockable(address: str, own_networks: Iterable[Network] = ()) -> None:
    """Raise UnsafeAddress unless ``address`` is a public address outside the account's own networks."""
    ip = ipaddress.ip_address(address)
    if not ip.is_global or ip.is_multicast:
        raise UnsafeAddress(f"{address} is not a public address (private, loopback, link-local or reserved)")
    for network in own_networks:
        if ip.version == network.version and ip in network:
            raise UnsafeAddress(f"{address} is inside the account's own network {network}")


def host_network(address: str) -> str:
    ip = ipaddress.ip_address(address)
    return f"{ip}/{ip.max_prefixlen}"


def vpc_networks(vpc: Mapping[str, Any]) -> list[Network]:
    """The VPC's IPv4 and IPv6 ranges (a DescribeVpcs item)."""
    blocks = [vpc.get("CidrBlock")]
    blocks += [item.get("CidrBlock") for item in vpc.get("CidrBlockAssociationSet", [])]
    blocks += [item.get("Ipv6CidrBlock") for item in vpc.get("Ipv6CidrBlockAssociationSet", [])]
    return [ipaddress.ip_network(block) for block in dict.fromkeys(blocks) if block]


def acl_of_subnet(ec2: Any, subnet_id: str) -> dict[str, Any]:
    """The network ACL associated with the subnet (every subnet has exactly one)."""
    acls = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])["NetworkAcls"]
    if not acls:
        raise RuntimeError(f"subnet {subnet_id} has no network ACL association")
    return dict(acls[0])


def _entry_network(entry: Mapping[str, Any]) -> Network | None:
    block = entry.get("CidrBlock") or entry.get("Ipv6CidrBlock")
    try:
        return ipaddress.ip_network(block) if block else None
    except ValueError:
        return None


def deciding_entry(acl: Mapping[str, Any], address: str, *, egress: bool) -> dict[str, Any] | None:
    """The entry that decides traffic with ``address`` (any protocol): the lowest-numbered that matches."""
    ip = ipaddress.ip_address(address)
    matching = []
    for entry in acl.get("Entries", []):
        network = _entry_network(entry)
        if bool(entry.get("Egress")) == egress and network is not None and network.version == ip.version \
                and ip in network:
            matching.append(entry)
    return dict(min(matching, key=lambda entry: int(entry["RuleNumber"]))) if matching else None


def is_blocked(acl: Mapping[str, Any], address: str, *, egress: bool) -> bool:
    """The first entry matching the address denies all traffic with it."""
    entry = deciding_entry(acl, address, egress=egress)
    return entry is not None and entry.get("RuleAction") == "deny" and str(entry.get("Protocol")) == "-1"


def free_rule_number(acl: Mapping[str, Any], address: str, *, egress: bool) -> int:
    """The lowest free rule number ahead of the entry that currently decides the address."""
    entries = [entry for entry in acl.get("Entries", []) if bool(entry.get("Egress")) == egress]
    used = {int(entry["RuleNumber"]) for entry in entries}
    if len(used - {CATCH_ALL_RULE}) >= RULE_LIMIT:
        raise AclFull(f"network ACL {acl.get('NetworkAclId')} already has {RULE_LIMIT} "
                      f"{'outbound' if egress else 'inbound'} rules (the default quota)")
    deciding = deciding_entry(acl, address, egress=egress)
    ceiling = int(deciding["RuleNumber"]) if deciding else CATCH_ALL_RULE
    for number in range(LOWEST_RULE, ceiling):
        if number not in used:
            return number
    raise AclFull(f"no rule number is free ahead of rule {ceiling} of network ACL {acl.get('NetworkAclId')}")


def block_address(ec2: Any, acl_id: str, address: str, *, egress: bool, attempts: int = 4) -> dict[str, Any]:
    """Deny all traffic with ``address`` in one direction of the ACL; returns what was done.

    Safe to repeat: an address already blocked there is left as it is. Another writer taking the chosen
    rule number at the same moment makes the call fail with NetworkAclEntryAlreadyExists; the ACL is then
    read again and the next free number used.
    """
    for _ in range(attempts):
        acl = ec2.describe_network_acls(NetworkAclIds=[acl_id])["NetworkAcls"][0]
        if is_blocked(acl, address, egress=egress):
            entry = deciding_entry(acl, address, egress=egress) or {}
            return {"acl": acl_id, "address": address, "egress": egress, "rule": entry.get("RuleNumber"),
                    "created": False}
        number = free_rule_number(acl, address, egress=egress)
        block = host_network(address)
        target = {"Ipv6CidrBlock": block} if ":" in block else {"CidrBlock": block}
        try:
            ec2.create_network_acl_entry(NetworkAclId=acl_id, RuleNumber=number, Protocol="-1", RuleAction="deny",
                                         Egress=egress, **target)
        except ClientError as exc:
            if error_code(exc) != "NetworkAclEntryAlreadyExists":
                raise
            continue
        return {"acl": acl_id, "address": address, "egress": egress, "rule": number, "created": True}
    raise AclFull(f"could not find a free rule number in network ACL {acl_id} after {attempts} attempts")
