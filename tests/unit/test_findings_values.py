"""The value tables hold together: addresses are public and belong to their ASN's block and place."""

from __future__ import annotations

import ipaddress
import random
import re

import pytest

from simulator.findings import values
from simulator.findings.networks import NETWORKS, RESOLVERS, draw_remote, host6_in, host_in, network_of_address
from simulator.findings.pools import pools_for

DOCUMENTATION = [ipaddress.ip_network(net) for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
                                                       "2001:db8::/32")]


@pytest.mark.parametrize("network", NETWORKS, ids=lambda network: network.cidr)
def test_each_network_row_is_public_and_plausible(network) -> None:  # type: ignore[no-untyped-def]
    block = ipaddress.ip_network(network.cidr)
    assert block.is_global and not any(block.overlaps(doc) for doc in DOCUMENTATION)
    if network.cidr_v6:
        block6 = ipaddress.ip_network(network.cidr_v6)
        assert block6.version == 6 and block6.is_global
    assert network.asn.isdigit() and 0 < int(network.asn) < 2**32
    assert re.fullmatch(r"[A-Z]{2}", network.country_code)
    assert -90 <= network.lat <= 90 and -180 <= network.lon <= 180
    assert network.kind in ("hosting", "cloud", "residential", "tor", "aws")
    assert all((network.asn_org, network.isp, network.org, network.city, network.country))


def test_blocks_do_not_overlap_so_an_address_has_one_owner() -> None:
    blocks = [ipaddress.ip_network(network.cidr) for network in NETWORKS]
    for index, block in enumerate(blocks):
        for other in blocks[index + 1:]:
            assert not block.overlaps(other), (block, other)


def test_one_city_one_place() -> None:
    places: dict[tuple[str, str], tuple[float, float]] = {}
    for network in (*NETWORKS, *(resolver for _, resolver in RESOLVERS)):
        place = places.setdefault((network.city, network.country_code), (network.lat, network.lon))
        assert place == (network.lat, network.lon), network.city


def test_drawn_hosts_are_inside_their_block_and_never_its_edges() -> None:
    rng = random.Random(3)
    for network in NETWORKS:
        block = ipaddress.ip_network(network.cidr)
        for _ in range(200):
            address = ipaddress.ip_address(host_in(network.cidr, rng))
            assert address in block and address not in (block.network_address, block.broadcast_address)
            assert network_of_address(str(address)) is network
        if network.cidr_v6:
            assert ipaddress.ip_address(host6_in(network.cidr_v6, rng)) in ipaddress.ip_network(network.cidr_v6)


@pytest.mark.parametrize("role", ["attacker", "malicious", "tor", "aws", "benign"])
def test_remote_parties_come_from_the_right_kind_of_network(role: str) -> None:
    kinds = {"attacker": {"hosting", "cloud", "residential"}, "malicious": {"hosting", "cloud"}, "tor": {"tor"},
             "aws": {"aws"}, "benign": {"residential", "hosting"}}[role]
    rng = random.Random(role)
    for _ in range(100):
        network, address = draw_remote(rng, role)
        assert network.kind in kinds and network_of_address(address) is network


def test_resolvers_are_the_published_anycast_addresses() -> None:
    for address, network in RESOLVERS:
        assert ipaddress.ip_address(address) in ipaddress.ip_network(network.cidr)


def test_domains_look_like_what_they_are() -> None:
    rng = random.Random(5)
    for _ in range(200):
        domain = values.dga_domain(rng)
        label, tld = domain.rsplit(".", 1)
        assert len(label) >= 12 and tld in values.DGA_TLDS and re.fullmatch(r"[a-z][a-z0-9]+", label)
    rebinding = values.rebind_domain("88.198.1.2")
    assert rebinding == "58c60102.a9fea9fe.rbndr.us"
    assert ipaddress.ip_address(int("a9fea9fe", 16)) == ipaddress.ip_address("169.254.169.254")
    exfil = values.exfil_domain(rng, "zone.example")
    assert exfil.endswith(".zone.example") and all(len(label) <= 63 for label in exfil.split("."))


def test_well_known_ports_have_their_iana_names() -> None:
    assert values.port_details(22) == {"port": 22, "portName": "SSH"}
    assert values.port_details(3389)["portName"] == "RDP"
    assert values.port_details(5985)["portName"] == "WinRM"
    assert values.port_details(40000)["portName"] == "Unknown"
    rng = random.Random(1)
    assert all(32768 <= values.ephemeral_port(rng) <= 60999 for _ in range(1000))


def test_below_and_between_stay_in_range_and_cover_it() -> None:
    rng = random.Random(2)
    assert {values.below(rng, 5) for _ in range(500)} == set(range(5))
    assert {values.between(rng, 3, 6) for _ in range(500)} == {3, 4, 5}


def test_faker_pools_are_reproducible_per_seed_and_differ_between_seeds() -> None:
    pools_for.cache_clear()
    first = pools_for(11)
    pools_for.cache_clear()
    assert pools_for(11) == first
    assert pools_for(12).user_names != first.user_names
    assert len(set(first.user_names)) == len(first.user_names) >= 32
