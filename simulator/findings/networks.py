"""Real-world networks for remote hosts: address block, its ASN and owner, and where it sits.

Every row belongs together: the IPv4 (and IPv6) block is announced by that ASN and registered to that
organisation (RIR whois: RIPE NCC, ARIN, APNIC), and the city is a place where the organisation runs that
block, with the city's centre coordinates (GeoNames, rounded to 4 decimals). Sources are listed in
fixtures/findings/SOURCES.md. Hosts drawn from a block skip its network and broadcast addresses, so every
generated remote address is a global unicast address (never private, loopback, multicast, reserved or
documentation space).
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from functools import cache

from simulator.findings.values import below


@dataclass(frozen=True)
class Network:
    asn: str
    asn_org: str
    isp: str
    org: str
    cidr: str
    city: str
    country: str
    country_code: str
    lat: float
    lon: float
    kind: str  # hosting | cloud | aws | residential | tor | resolver
    cidr_v6: str = ""


NETWORKS: tuple[Network, ...] = (
    # Hosting providers (common sources of scanning, brute force, C&C and mining pools)
    Network("24940", "Hetzner Online GmbH", "Hetzner Online GmbH", "Hetzner Online GmbH", "88.198.0.0/16",
            "Falkenstein", "Germany", "DE", 50.4779, 12.3713, "hosting", "2a01:4f8::/32"),
    Network("24940", "Hetzner Online GmbH", "Hetzner Online GmbH", "Hetzner Online GmbH", "95.216.0.0/16",
            "Helsinki", "Finland", "FI", 60.1699, 24.9384, "hosting", "2a01:4f9::/32"),
    Network("16276", "OVH SAS", "OVH SAS", "OVH", "54.36.0.0/16",
            "Roubaix", "France", "FR", 50.6942, 3.1746, "hosting", "2001:41d0::/32"),
    Network("16276", "OVH SAS", "OVH Hosting, Inc.", "OVH", "149.56.0.0/16",
            "Beauharnois", "Canada", "CA", 45.3151, -73.8779, "hosting"),
    Network("14061", "DIGITALOCEAN-ASN", "DigitalOcean, LLC", "DigitalOcean, LLC", "104.131.0.0/16",
            "New York", "United States", "US", 40.7143, -74.0060, "hosting", "2604:a880::/32"),
    Network("14061", "DIGITALOCEAN-ASN", "DigitalOcean, LLC", "DigitalOcean, LLC", "128.199.0.0/16",
            "Singapore", "Singapore", "SG", 1.2897, 103.8501, "hosting"),
    Network("63949", "Akamai Connected Cloud", "Linode", "Linode", "173.255.192.0/18",
            "Fremont", "United States", "US", 37.5483, -121.9886, "hosting"),
    Network("20473", "AS-CHOOPA", "The Constant Company, LLC", "Vultr Holdings, LLC", "45.76.0.0/16",
            "Piscataway", "United States", "US", 40.4993, -74.3990, "hosting"),
    Network("51167", "Contabo GmbH", "Contabo GmbH", "Contabo GmbH", "167.86.64.0/18",
            "Nuremberg", "Germany", "DE", 49.4542, 11.0775, "hosting"),
    Network("60781", "LeaseWeb Netherlands B.V.", "LeaseWeb Netherlands B.V.", "LeaseWeb Netherlands B.V.",
            "37.48.64.0/18", "Amsterdam", "Netherlands", "NL", 52.3740, 4.8897, "hosting"),
    # Large clouds in China (frequent brute-force and mining sources in threat feeds)
    Network("37963", "Hangzhou Alibaba Advertising Co.,Ltd.", "Alibaba.com LLC", "Aliyun Computing Co., LTD",
            "47.96.0.0/16", "Hangzhou", "China", "CN", 30.2936, 120.1614, "cloud"),
    Network("45090", "Shenzhen Tencent Computer Systems Company Limited", "Tencent Cloud Computing",
            "Tencent Cloud Computing (Beijing) Co., Ltd", "119.29.0.0/16",
            "Guangzhou", "China", "CN", 23.1167, 113.2500, "cloud"),
    Network("396982", "GOOGLE-CLOUD-PLATFORM", "Google LLC", "Google Cloud", "35.184.0.0/13",
            "Council Bluffs", "United States", "US", 41.2619, -95.8608, "cloud"),
    # Access networks (residential and backbone ISPs)
    Network("4134", "CHINANET-BACKBONE", "China Telecom", "Chinanet Jiangsu Province Network", "222.186.0.0/16",
            "Nanjing", "China", "CN", 32.0617, 118.7778, "residential"),
    Network("4134", "CHINANET-BACKBONE", "China Telecom", "Chinanet Jiangsu Province Network", "61.177.0.0/16",
            "Changzhou", "China", "CN", 31.7731, 119.9542, "residential"),
    Network("4808", "China Unicom Beijing Province Network", "China Unicom", "China Unicom Beijing",
            "123.125.0.0/16", "Beijing", "China", "CN", 39.9075, 116.3972, "residential"),
    Network("7922", "COMCAST-7922", "Comcast Cable Communications, LLC", "Comcast Cable Communications, LLC",
            "73.0.0.0/8", "Philadelphia", "United States", "US", 39.9524, -75.1636, "residential"),
    Network("3320", "Deutsche Telekom AG", "Deutsche Telekom AG", "Deutsche Telekom AG", "79.192.0.0/10",
            "Munich", "Germany", "DE", 48.1374, 11.5755, "residential"),
    Network("2856", "British Telecommunications PLC", "BT", "BT Public Internet Service", "86.128.0.0/10",
            "London", "United Kingdom", "GB", 51.5085, -0.1257, "residential"),
    Network("3215", "Orange S.A.", "Orange", "Orange", "90.0.0.0/9",
            "Paris", "France", "FR", 48.8534, 2.3488, "residential"),
    Network("17676", "SoftBank Corp.", "SoftBank Corp.", "SoftBank BB Corp", "126.0.0.0/8",
            "Tokyo", "Japan", "JP", 35.6895, 139.6917, "residential"),
    Network("9829", "National Internet Backbone", "Bharat Sanchar Nigam Limited", "BSNL", "117.192.0.0/10",
            "Bengaluru", "India", "IN", 12.9716, 77.5946, "residential"),
    Network("45899", "VNPT Corp", "VNPT", "Vietnam Posts and Telecommunications Group", "113.160.0.0/11",
            "Hanoi", "Vietnam", "VN", 21.0245, 105.8412, "residential"),
    # Networks that host many Tor exit relays (Tor Project relay search lists them by ASN)
    Network("205100", "F3 Netze e.V.", "F3 Netze e.V.", "F3 Netze e.V.", "185.220.100.0/24",
            "Frankfurt am Main", "Germany", "DE", 50.1155, 8.6842, "tor"),
    Network("396507", "EMERALD-ONION", "Emerald Onion", "Emerald Onion", "23.129.64.0/24",
            "Seattle", "United States", "US", 47.6062, -122.3321, "tor"),
    Network("4224", "CALYX-AS", "The Calyx Institute", "The Calyx Institute", "162.247.72.0/22",
            "New York", "United States", "US", 40.7143, -74.0060, "tor"),
    Network("53667", "PONYNET", "FranTech Solutions", "FranTech Solutions", "209.141.32.0/19",
            "Las Vegas", "United States", "US", 36.1750, -115.1372, "tor"),
    # AWS (callers "inside AWS", other accounts' instances)
    Network("14618", "AMAZON-AES", "Amazon.com", "Amazon.com", "3.80.0.0/12",
            "Ashburn", "United States", "US", 39.0437, -77.4875, "aws", "2600:1f18::/33"),
    Network("16509", "AMAZON-02", "Amazon.com", "Amazon.com", "52.58.0.0/15",
            "Frankfurt am Main", "Germany", "DE", 50.1155, 8.6842, "aws", "2a05:d014::/35"),
    Network("16509", "AMAZON-02", "Amazon.com", "Amazon.com", "13.212.0.0/15",
            "Singapore", "Singapore", "SG", 1.2897, 103.8501, "aws"),
)

# Public DNS resolvers, by their well-known anycast addresses (for DNS-resolver and DoH/DoT findings).
RESOLVERS: tuple[tuple[str, Network], ...] = (
    ("8.8.8.8", Network("15169", "GOOGLE", "Google LLC", "Google LLC", "8.8.8.0/24",
                        "Mountain View", "United States", "US", 37.4056, -122.0775, "resolver")),
    ("1.1.1.1", Network("13335", "CLOUDFLARENET", "Cloudflare, Inc.", "APNIC and Cloudflare DNS Resolver project",
                        "1.1.1.0/24", "San Francisco", "United States", "US", 37.7749, -122.4194, "resolver")),
    ("9.9.9.9", Network("19281", "QUAD9-AS-1", "Quad9", "Quad9", "9.9.9.0/24",
                        "Zurich", "Switzerland", "CH", 47.3667, 8.5500, "resolver")),
    ("208.67.222.222", Network("36692", "OPENDNS", "Cisco OpenDNS, LLC", "Cisco OpenDNS, LLC", "208.67.222.0/24",
                               "San Francisco", "United States", "US", 37.7749, -122.4194, "resolver")),
)

# Which networks a kind of remote party comes from.
SOURCES_BY_ROLE: dict[str, tuple[str, ...]] = {
    "attacker": ("hosting", "cloud", "residential"),
    "malicious": ("hosting", "cloud"),
    "tor": ("tor",),
    "aws": ("aws",),
    "benign": ("residential", "hosting"),
}


@cache
def networks_of(role: str) -> tuple[Network, ...]:
    kinds = SOURCES_BY_ROLE[role]
    return tuple(network for network in NETWORKS if network.kind in kinds)


@cache
def _block(cidr: str) -> tuple[int, int]:
    net = ipaddress.ip_network(cidr)
    return int(net.network_address), net.num_addresses


def host_in(cidr: str, rng: random.Random) -> str:
    """A host address inside the block, never its first or last address."""
    base, size = _block(cidr)
    value = base + 1 + below(rng, size - 2)
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def host6_in(cidr: str, rng: random.Random) -> str:
    net = ipaddress.ip_network(cidr)
    host_bits = 128 - net.prefixlen
    return str(ipaddress.IPv6Address(int(net.network_address) + 1 + rng.getrandbits(min(host_bits, 64))))


@cache
def _place(network: Network) -> tuple[dict, dict, dict, dict]:
    organization = {"asn": network.asn, "asnOrg": network.asn_org, "isp": network.isp, "org": network.org}
    country = {"countryCode": network.country_code, "countryName": network.country}
    city = {"cityName": network.city}
    geo = {"lat": network.lat, "lon": network.lon}
    return organization, country, city, geo


def remote_ip_details(network: Network, address: str, *, ipv6: str = "") -> dict:
    """The wire ``remoteIpDetails`` of a host; the nested parts are shared and must not be mutated."""
    organization, country, city, geo = _place(network)
    details: dict = {"ipAddressV4": address} if address else {}
    if ipv6:
        details["ipAddressV6"] = ipv6
    details["organization"] = organization
    details["country"] = country
    details["city"] = city
    details["geoLocation"] = geo
    return details


def draw_remote(rng: random.Random, role: str = "attacker") -> tuple[Network, str]:
    candidates = networks_of(role)
    network = candidates[below(rng, len(candidates))]
    return network, host_in(network.cidr, rng)


def network_of_address(address: str) -> Network | None:
    """The table row an address belongs to (used by tests and by hostile-input checks)."""
    value = ipaddress.ip_address(address)
    for network in (*NETWORKS, *(resolver for _, resolver in RESOLVERS)):
        for cidr in filter(None, (network.cidr, network.cidr_v6)):
            if value in ipaddress.ip_network(cidr):
                return network
    return None
