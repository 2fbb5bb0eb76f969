"""Deciding what to block, and whether it is blocked: the responder's NACL arithmetic and the observer's
reading of network ACLs and bucket policies, on constructed documents."""

from __future__ import annotations

import ipaddress
import random
from typing import Any

import pytest

from responders.lib.network import (
    AclFull,
    UnsafeAddress,
    check_blockable,
    deciding_entry,
    free_rule_number,
    is_blocked,
    remotes_of,
    vpc_networks,
)
from simulator.findings import generate_finding
from simulator.observers.network import acl_verdict, remote_addresses, statement_denies

VPC = ipaddress.ip_network("10.30.0.0/16")


def entry(number: int, action: str, cidr: str, *, egress: bool = False, protocol: str = "-1") -> dict[str, Any]:
    key = "Ipv6CidrBlock" if ":" in cidr else "CidrBlock"
    return {"RuleNumber": number, "RuleAction": action, key: cidr, "Egress": egress, "Protocol": protocol}


def default_acl(*extra: dict[str, Any]) -> dict[str, Any]:
    """What AWS (and moto) give a new VPC: allow all at 100, the catch-all deny at 32767, both ways."""
    entries = [entry(100, "allow", "0.0.0.0/0"), entry(32767, "deny", "0.0.0.0/0"),
               entry(100, "allow", "0.0.0.0/0", egress=True), entry(32767, "deny", "0.0.0.0/0", egress=True)]
    return {"NetworkAclId": "acl-0123456789abcdef0", "Entries": [*entries, *extra]}


# ---------------------------------------------------------------- what a finding names


def test_a_brute_force_names_its_attacker_inbound_and_an_outbound_one_its_victim() -> None:
    inbound = generate_finding("UnauthorizedAccess:EC2/SSHBruteForce", rng=random.Random(1), severity=2.0)
    outbound = generate_finding("UnauthorizedAccess:EC2/SSHBruteForce", rng=random.Random(1), severity=8.0)
    attacker = inbound["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]["ipAddressV4"]
    victim = outbound["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]["ipAddressV4"]

    assert [(r.address, r.direction) for r in remotes_of(inbound)] == [(attacker, "inbound")]
    assert [(r.address, r.direction) for r in remotes_of(outbound)] == [(victim, "outbound")]
    assert remote_addresses(inbound) == [(ipaddress.ip_address(attacker), False)]
    assert remote_addresses(outbound) == [(ipaddress.ip_address(victim), True)]


def test_a_port_probe_names_every_prober_once() -> None:
    finding = generate_finding("Recon:EC2/PortProbeUnprotectedPort", rng=random.Random(1))
    probers = [d["remoteIpDetails"]["ipAddressV4"] for d in finding["service"]["action"]["portProbeAction"][
        "portProbeDetails"]]
    finding["service"]["action"]["portProbeAction"]["portProbeDetails"].append(
        finding["service"]["action"]["portProbeAction"]["portProbeDetails"][0])

    assert [r.address for r in remotes_of(finding)] == list(dict.fromkeys(probers))
    assert {r.direction for r in remotes_of(finding)} == {"inbound"}
    assert len(remote_addresses(finding)) == len(set(probers))


def test_a_remote_address_that_is_not_an_address_is_refused_outright() -> None:
    finding = generate_finding("UnauthorizedAccess:EC2/SSHBruteForce", rng=random.Random(1), severity=2.0)
    finding["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]["ipAddressV4"] = "1.2.3.4; rm -rf /"

    with pytest.raises(UnsafeAddress, match="is not an IP address"):
        remotes_of(finding)
    assert remote_addresses(finding) == []  # the observer simply finds nothing to look for


def test_a_finding_without_an_action_names_nobody() -> None:
    finding = generate_finding("Backdoor:EC2/C&CActivity.B!DNS", rng=random.Random(1))
    assert remotes_of(finding) == []
    assert remotes_of({"service": "guardduty"}) == []


@pytest.mark.parametrize("address, why", [
    ("10.0.0.2", "not a public address"), ("169.254.169.254", "not a public address"),
    ("127.0.0.1", "not a public address"), ("0.0.0.0", "not a public address"), ("224.0.0.1", "not a public"),
    ("fd00::1", "not a public address"), ("100.64.0.1", "not a public address"),
    ("203.0.113.9", "not a public address"),  # documentation ranges route nowhere
])
def test_addresses_the_account_uses_itself_are_never_blocked(address: str, why: str) -> None:
    with pytest.raises(UnsafeAddress, match=why):
        check_blockable(address, [VPC])


def test_a_public_address_inside_the_vpc_ranges_is_refused_and_others_pass() -> None:
    with pytest.raises(UnsafeAddress, match="own network"):
        check_blockable("3.4.5.6", [ipaddress.ip_network("3.4.0.0/16")])
    check_blockable("45.76.160.46", [VPC])
    check_blockable("2a03:b0c0::1", [VPC])


def test_the_vpc_ranges_come_from_every_association() -> None:
    vpc = {"CidrBlock": "10.30.0.0/16", "CidrBlockAssociationSet": [{"CidrBlock": "10.30.0.0/16"},
                                                                     {"CidrBlock": "100.70.0.0/16"}],
           "Ipv6CidrBlockAssociationSet": [{"Ipv6CidrBlock": "2600:1f18::/56"}]}
    assert [str(n) for n in vpc_networks(vpc)] == ["10.30.0.0/16", "100.70.0.0/16", "2600:1f18::/56"]


# ---------------------------------------------------------------- where a deny goes


def test_the_deny_goes_at_the_lowest_free_number_ahead_of_the_allow() -> None:
    acl = default_acl(entry(1, "deny", "45.76.0.9/32"), entry(2, "deny", "45.76.0.10/32"))
    assert free_rule_number(acl, "45.76.160.46", egress=False) == 3
    assert free_rule_number(acl, "45.76.160.46", egress=True) == 1  # each direction numbers its own rules


def test_an_address_is_blocked_only_when_the_first_matching_entry_denies_everything() -> None:
    assert not is_blocked(default_acl(), "45.76.160.46", egress=False)
    assert is_blocked(default_acl(entry(7, "deny", "45.76.160.46/32")), "45.76.160.46", egress=False)
    # A deny behind an allow never takes effect.
    late = default_acl(entry(200, "deny", "45.76.160.46/32"))
    assert not is_blocked(late, "45.76.160.46", egress=False)
    assert deciding_entry(late, "45.76.160.46", egress=False)["RuleAction"] == "allow"
    # A deny of one protocol leaves the rest open.
    assert not is_blocked(default_acl(entry(5, "deny", "45.76.160.46/32", protocol="6")), "45.76.160.46",
                          egress=False)
    # The wrong direction does not count.
    assert not is_blocked(default_acl(entry(5, "deny", "45.76.160.46/32", egress=True)), "45.76.160.46",
                          egress=False)


def test_no_free_number_ahead_of_the_allow_or_a_full_acl_is_said_plainly() -> None:
    crowded = default_acl(*[entry(n, "deny", f"45.76.0.{n}/32") for n in range(1, 10)],
                          entry(10, "allow", "0.0.0.0/0"))
    with pytest.raises(AclFull, match="no rule number is free ahead of rule 10"):
        free_rule_number(crowded, "45.76.160.46", egress=False)
    full = default_acl(*[entry(n, "deny", f"45.76.0.{n}/32") for n in range(1, 20)])
    with pytest.raises(AclFull, match="already has 20 inbound rules"):
        free_rule_number(full, "45.76.160.46", egress=False)


# ---------------------------------------------------------------- the observer's view


def test_the_observer_wants_a_narrow_deny_of_every_protocol_ahead_of_any_allow() -> None:
    address = ipaddress.ip_address("45.76.160.46")
    assert "allows" in str(acl_verdict(default_acl(), address, egress=False))
    assert acl_verdict(default_acl(entry(1, "deny", "45.76.160.46/32")), address, egress=False) is None
    assert acl_verdict(default_acl(entry(1, "deny", "45.76.160.0/24")), address, egress=False) is None
    assert "not just" in str(acl_verdict(default_acl(entry(1, "deny", "0.0.0.0/0")), address, egress=False))
    assert "protocol 6 only" in str(acl_verdict(default_acl(entry(1, "deny", "45.76.160.46/32", protocol="6")),
                                                address, egress=False))
    assert "outbound rule #100" in str(acl_verdict(default_acl(entry(1, "deny", "45.76.160.46/32")), address,
                                                   egress=True))


def _deny(addresses: list[str], **changes: Any) -> dict[str, Any]:
    statement = {"Sid": "Block", "Effect": "Deny", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
                 "Resource": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"],
                 "Condition": {"IpAddress": {"aws:SourceIp": addresses}}}
    statement.update(changes)
    return statement


def test_the_observer_reads_a_bucket_policy_deny_of_the_address() -> None:
    address, arn = ipaddress.ip_address("45.76.160.46"), "arn:aws:s3:::data/any-object"
    assert statement_denies(_deny(["45.76.160.46/32"]), address, arn)
    assert statement_denies(_deny(["45.76.160.0/24"], Action="s3:*", Principal={"AWS": "*"}), address, arn)
    assert not statement_denies(_deny(["45.76.160.47/32"]), address, arn)
    assert not statement_denies(_deny(["45.0.0.0/8"]), address, arn)  # half a provider is an outage, not a block
    assert not statement_denies(_deny(["45.76.160.46/32"], Effect="Allow"), address, arn)
    assert not statement_denies(_deny(["45.76.160.46/32"], Action="s3:PutObject"), address, arn)
    assert not statement_denies(_deny(["45.76.160.46/32"], Resource="arn:aws:s3:::other/*"), address, arn)
    assert not statement_denies(_deny(["45.76.160.46/32"], Principal={"AWS": "arn:aws:iam::1:root"}), address, arn)
    assert not statement_denies(_deny([], Condition={}), address, arn)  # everyone from everywhere: a lockdown
    allow_list = _deny([], Condition={"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}})
    assert statement_denies(allow_list, address, arn)
    assert not statement_denies(allow_list, ipaddress.ip_address("10.1.2.3"), arn)
