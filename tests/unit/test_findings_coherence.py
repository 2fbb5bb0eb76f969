"""Every generated finding is coherent for its type: resource, action, band, ids, times, addresses."""

from __future__ import annotations

import ipaddress
import json
import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.catalog import SEVERITY_BANDS, active_types
from simulator.findings import generate_finding, recipe_for
from simulator.findings.networks import RESOLVERS, network_of_address
from simulator.findings.values import MINING_POOL_DOMAINS

ACTIVE = sorted(active_types())
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
DOCUMENTATION = [ipaddress.ip_network(net) for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
                                                       "2001:db8::/32")]

FAMILY_ACTION = {
    "ec2-network": "NETWORK_CONNECTION", "lambda-network": "NETWORK_CONNECTION",
    "runtime-network": "NETWORK_CONNECTION", "ec2-dns": "DNS_REQUEST", "runtime-dns": "DNS_REQUEST",
    "ec2-port-probe": "PORT_PROBE", "iam-api": "AWS_API_CALL", "s3-api": "AWS_API_CALL",
    "custom-detection": "AWS_API_CALL", "kubernetes-api": "KUBERNETES_API_CALL", "rds-login": "RDS_LOGIN_ATTEMPT",
    "runtime-process": None, "ebs-malware": None, "backup-malware": None, "s3-object-malware": None,
    "attack-sequence": None,
}
ACTION_MEMBER = {"NETWORK_CONNECTION": "networkConnectionAction", "DNS_REQUEST": "dnsRequestAction",
                 "PORT_PROBE": "portProbeAction", "AWS_API_CALL": "awsApiCallAction",
                 "KUBERNETES_API_CALL": "kubernetesApiCallAction", "RDS_LOGIN_ATTEMPT": "rdsLoginAttemptAction"}
DETAILS = {"Instance": ("instanceDetails",), "AccessKey": ("accessKeyDetails",),
           "S3Bucket": ("accessKeyDetails", "s3BucketDetails"), "EKSCluster": ("eksClusterDetails",),
           "ECSCluster": ("ecsClusterDetails",), "Container": ("containerDetails", "instanceDetails"),
           "Lambda": ("lambdaDetails",), "RDSDBInstance": ("rdsDbInstanceDetails", "rdsDbUserDetails"),
           "RDSLimitlessDB": ("rdsLimitlessDbDetails", "rdsDbUserDetails"), "EC2Image": ("ec2ImageDetails",),
           "EBSSnapshot": ("ebsSnapshotDetails",), "RecoveryPoint": ("recoveryPointDetails",),
           "S3Object": ("s3BucketDetails",), "AttackSequence": ()}
BRUTE_FORCE_PORT = {"SSHBruteForce": (22,), "RDPBruteForce": (3389,), "WinRMBruteForce": (5985, 5986)}


def label_of(severity: float) -> str:
    return next(label for label, (low, high) in SEVERITY_BANDS.items() if low <= severity <= high)


def remote_details(finding: dict) -> list[dict]:
    action = finding["service"].get("action") or {}
    found = []
    for body in action.values():
        if isinstance(body, dict):
            if "remoteIpDetails" in body:
                found.append(body["remoteIpDetails"])
            found.extend(probe["remoteIpDetails"] for probe in body.get("portProbeDetails", ()))
    return found


def problems(finding: dict) -> list[str]:
    """Every way ``finding`` departs from what its type implies (empty when coherent)."""
    out: list[str] = []
    recipe = recipe_for(finding["type"])
    service = finding["service"]
    resource = finding["resource"]

    def expect(condition: bool, message: str) -> None:
        if not condition:
            out.append(message)

    # identity
    expect(finding["schemaVersion"] == "2.0", "schemaVersion")
    expect(bool(HEX32.match(finding["id"])), "id is not 32 lowercase hex")
    expect(bool(HEX32.match(service["detectorId"])), "detectorId is not 32 lowercase hex")
    arn = (f"arn:{finding['partition']}:guardduty:{finding['region']}:{finding['accountId']}:"
           f"detector/{service['detectorId']}/finding/{finding['id']}")
    expect(finding["arn"] == arn, "arn does not name the finding")
    expect(service["serviceName"] == "guardduty" and service["archived"] is False, "service identity")
    expect(isinstance(service["count"], int) and service["count"] >= 1, "count < 1")
    info = service["additionalInfo"]
    flat = {key: value for key, value in info.items() if key not in ("value", "type")}
    expect(info["sample"] is False and json.loads(info["value"]) == flat and info["type"] == "default",
           "additionalInfo is not flattened + value with sample false")
    # times
    times = [finding["createdAt"], finding["updatedAt"], service["eventFirstSeen"], service["eventLastSeen"]]
    expect(all(ISO_MS.match(value) for value in times), f"timestamps not ISO-8601 ms Z: {times}")
    created, updated, first, last = times  # same fixed format: string order is time order
    expect(created <= updated and first <= last <= updated and first <= created, f"time order: {times}")
    # severity band, and the band the activity implies
    low, high = recipe.severity_range
    severity = finding["severity"]
    expect(low <= severity <= high, f"severity {severity} outside {low}-{high}")
    # resource
    expect(resource["resourceType"] in recipe.resource_types, f"resourceType {resource['resourceType']}")
    expect(resource["resourceType"] in active_types()[finding["type"]].resource_types, "resourceType not in catalog")
    for member in DETAILS[resource["resourceType"]]:
        expect(bool(resource.get(member)), f"resource.{member} missing")
    # action kind per family
    action = service.get("action")
    wanted = FAMILY_ACTION[recipe.family]
    if wanted is None:
        expect(action is None, f"{recipe.family} findings carry no action")
    else:
        expect(action is not None and action["actionType"] == wanted, f"action is not {wanted}")
        if action is not None:
            expect(ACTION_MEMBER[wanted] in action, f"{ACTION_MEMBER[wanted]} missing")
    _family_rules(finding, recipe.family, expect)
    # remote addresses: public, and their ASN, organisation and place belong to the address
    for details in remote_details(finding):
        address = details["ipAddressV4"]
        parsed = ipaddress.ip_address(address)
        expect(parsed.is_global and not any(parsed in net for net in DOCUMENTATION), f"{address} is not public")
        network = network_of_address(address)
        expect(network is not None, f"{address} is in no known network")
        if network is not None:
            expect(details["organization"] == {"asn": network.asn, "asnOrg": network.asn_org, "isp": network.isp,
                                               "org": network.org}, f"{address}: organisation")
            expect(details["country"] == {"countryCode": network.country_code, "countryName": network.country}
                   and details["city"] == {"cityName": network.city}
                   and details["geoLocation"] == {"lat": network.lat, "lon": network.lon}, f"{address}: place")
    return out


def _family_rules(finding: dict, family: str, expect) -> None:  # type: ignore[no-untyped-def]
    service, resource = finding["service"], finding["resource"]
    name = finding["type"].split("/", 1)[1].split("!")[0]
    severity = finding["severity"]
    action = service.get("action") or {}
    if family in ("ec2-network", "lambda-network", "runtime-network"):
        connection = action["networkConnectionAction"]
        direction = connection["connectionDirection"]
        expect(service["resourceRole"] == ("ACTOR" if direction == "OUTBOUND" else "TARGET"), "role vs direction")
        if name in BRUTE_FORCE_PORT:
            service_port = connection["localPortDetails" if direction == "INBOUND" else "remotePortDetails"]["port"]
            expect(service_port in BRUTE_FORCE_PORT[name], f"{name} on port {service_port}")
            expect(label_of(severity) == ("Low" if direction == "INBOUND" else "High"), "brute-force band")
        if "localIpDetails" in connection:
            enis = resource["instanceDetails"]["networkInterfaces"]
            expect(connection["localIpDetails"]["ipAddressV4"] == enis[0]["privateIpAddress"], "local address")
        if name in ("UnusualDNSResolver", "UnusualDoHActivity", "UnusualDoTActivity"):
            resolvers = {address for address, _ in RESOLVERS}
            expect(connection["remoteIpDetails"]["ipAddressV4"] in resolvers, "resolver address")
    if family in ("ec2-dns", "runtime-dns"):
        domain = action["dnsRequestAction"]["domain"]
        if name in ("BitcoinTool.B", "BitcoinDomainRequest.Reputation"):
            expect(domain in MINING_POOL_DOMAINS, f"{domain} is not a mining pool")
        if name.startswith("DGADomainRequest"):
            expect(len(domain.split(".")[0]) >= 12, f"{domain} does not look generated")
        if name == "MetadataDNSRebind":
            expect(".a9fea9fe." in domain, "rebinding name does not resolve to the metadata service")
    if family == "ec2-port-probe":
        ports = {probe["localPortDetails"]["port"] for probe in action["portProbeAction"]["portProbeDetails"]}
        expect(service["resourceRole"] == "TARGET", "probed instance is the target")
        if name == "PortProbeUnprotectedPort":
            expect((label_of(severity) == "High") == bool(ports & {9200, 9300}), "High iff Elasticsearch port")
    if family.startswith("runtime-"):
        expect(service.get("featureName") == "RuntimeMonitoring" and "process" in service["runtimeDetails"],
               "runtime findings carry runtimeDetails.process")
    if family == "ebs-malware":
        expect("ebsVolumeScanDetails" in service and "ebsVolumeDetails" in resource, "EBS scan details")
    if family in ("backup-malware", "s3-object-malware"):
        expect("malwareScanDetails" in service, "malware scan details")
    if family == "attack-sequence":
        sequence = service["detection"]["sequence"]
        expect(bool(sequence["signals"]) and label_of(severity) == "Critical", "attack sequence")
    if family == "custom-detection":
        expect(bool(finding.get("customDetectionRuleName")), "custom detection names its rule")
        expect(len(action["awsApiCallAction"]["affectedResources"]) == 1, "names the resource acted on")
    if family in ("iam-api", "s3-api") and name.endswith(".Custom"):
        lists = [detail["threatListName"] for detail in service["evidence"]["threatIntelligenceDetails"]]
        expect(all(name.endswith("-threat-intel") for name in lists), "custom threat list")


NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("type_name", ACTIVE)
def test_every_active_type_is_coherent(type_name: str) -> None:
    rng = random.Random(f"coherence:{type_name}")
    for _ in range(3):
        finding = generate_finding(type_name, rng=rng, now=NOW)
        assert problems(finding) == [], type_name


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.sampled_from(ACTIVE), st.integers(0, 2**32 - 1), st.integers(0, 3 * 365 * 86_400_000),
       st.sampled_from(["us-east-1", "eu-central-1", "ap-southeast-1", "cn-north-1", "us-gov-west-1"]))
def test_coherence_holds_for_any_seed_time_and_region(type_name: str, seed: int, offset_ms: int,
                                                      region: str) -> None:
    now = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(milliseconds=offset_ms)
    finding = generate_finding(type_name, rng=random.Random(seed), region=region, now=now)
    assert problems(finding) == []
    assert finding["updatedAt"] == now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    assert finding["partition"] == {"cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov"}.get(region, "aws")


def test_the_checker_itself_catches_incoherence() -> None:
    finding = generate_finding("UnauthorizedAccess:EC2/SSHBruteForce", rng=random.Random(1), now=NOW)
    finding["severity"] = 9.5
    finding["service"]["action"]["actionType"] = "DNS_REQUEST"
    finding["createdAt"] = "2030-01-01T00:00:00.000Z"
    found = problems(finding)
    assert any("severity" in problem for problem in found)
    assert any("action is not" in problem for problem in found)
    assert any("time order" in problem for problem in found)
