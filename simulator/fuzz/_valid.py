"""Valid variants: findings GuardDuty could send that a responder may not expect.

Each mutation explores one corner of the schema and keeps the finding valid and coherent (its severity
stays in the band its activity implies, ids keep agreeing, addresses keep matching their networks).
Mutations find what they touch and do nothing when it is absent, so any of them applies to any finding.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import datetime

from simulator.catalog import SEVERITY_BANDS
from simulator.findings import generate_finding, ids
from simulator.findings.networks import NETWORKS, host6_in, host_in, network_of_address, remote_ip_details
from simulator.findings.recipes import recipe_for
from simulator.findings.wire import dumps
from simulator.fuzz._choosers import Chooser, RandomChooser

Mutation = Callable[[dict, Chooser], None]

_V6_NETWORKS = tuple(network for network in NETWORKS if network.cidr_v6)
_TAGGED = ("instanceDetails", "eksClusterDetails", "ecsClusterDetails", "lambdaDetails", "rdsDbInstanceDetails")


def remote_details(finding: dict) -> Iterator[dict]:
    """Every remoteIpDetails object in the finding's action."""
    action = finding.get("service", {}).get("action") or {}
    for key, body in action.items():
        if key == "actionType" or not isinstance(body, dict):
            continue
        if isinstance(body.get("remoteIpDetails"), dict):
            yield body["remoteIpDetails"]
        for probe in body.get("portProbeDetails") or ():
            if isinstance(probe.get("remoteIpDetails"), dict):
                yield probe["remoteIpDetails"]


def _band_of(severity: float) -> tuple[float, float]:
    for low, high in SEVERITY_BANDS.values():
        if low <= severity <= high:
            return low, high
    return severity, severity


def severity_edge(finding: dict, choose: Chooser) -> None:
    """The lowest or highest severity of the band the finding's activity put it in."""
    low, high = _band_of(float(finding["severity"]))
    finding["severity"] = choose.choice((low, high))


def drop_optional(finding: dict, choose: Chooser) -> None:
    for key in ("title", "description", "partition"):
        if key in finding and choose.boolean(0.3):
            del finding[key]
    service = finding.get("service", {})
    for key in ("evidence", "additionalInfo", "featureName", "archived", "resourceRole", "eventFirstSeen",
                "eventLastSeen", "count"):
        if key in service and choose.boolean(0.2):
            del service[key]
    instance = finding.get("resource", {}).get("instanceDetails")
    if instance:
        for key in ("imageDescription", "tags", "iamInstanceProfile", "platform", "availabilityZone",
                    "launchTime", "instanceState", "imageId"):
            if key in instance and choose.boolean(0.3):
                del instance[key]


def nulls(finding: dict, choose: Chooser) -> None:
    """Optional members written as null, as GuardDuty does ("platform": null, "evidence": null)."""
    service = finding.get("service", {})
    if "evidence" not in service and choose.boolean():
        service["evidence"] = None
    instance = finding.get("resource", {}).get("instanceDetails")
    if instance and choose.boolean():
        instance["outpostArn"] = None
    kubernetes = finding.get("resource", {}).get("kubernetesDetails")
    if kubernetes and "kubernetesWorkloadDetails" not in kubernetes and choose.boolean():
        kubernetes["kubernetesWorkloadDetails"] = None


def ipv6_remote(finding: dict, choose: Chooser) -> None:
    """The remote party over IPv6 (dual-stack, or IPv6 only where nothing else names its IPv4 address)."""
    rng = random.Random(choose.seed())
    only_v6_allowed = finding.get("service", {}).get("action", {}).get("actionType") in ("NETWORK_CONNECTION",
                                                                                          "PORT_PROBE")
    for details in list(remote_details(finding)):
        old_v4 = details.get("ipAddressV4", "")
        network = network_of_address(old_v4) if old_v4 else None
        if network is None or not network.cidr_v6:
            network = choose.choice(_V6_NETWORKS)
            old_v4 = old_v4 or ""
            new_v4 = host_in(network.cidr, rng)
            details.clear()
            details.update(remote_ip_details(network, new_v4))
            _replace_text(finding, old_v4, new_v4)
            old_v4 = new_v4
        details["ipAddressV6"] = host6_in(network.cidr_v6, rng)
        if only_v6_allowed and choose.boolean():
            del details["ipAddressV4"]
            _replace_text(finding, old_v4, details["ipAddressV6"])
        # keep the key order GuardDuty uses: addresses first
        ordered = {key: details[key] for key in ("ipAddressV4", "ipAddressV6") if key in details}
        ordered.update({key: value for key, value in details.items() if key not in ordered})
        details.clear()
        details.update(ordered)


def _replace_text(finding: dict, old: str, new: str) -> None:
    """Rename an address wherever the finding mentions it (texts, sourceIPs)."""
    if not old:
        return
    for key in ("title", "description"):
        if isinstance(finding.get(key), str):
            finding[key] = finding[key].replace(old, new)
    call = finding.get("service", {}).get("action", {}).get("kubernetesApiCallAction")
    if call and isinstance(call.get("sourceIPs"), list):
        call["sourceIPs"] = [new if address == old else address for address in call["sourceIPs"]]


def several_enis(finding: dict, choose: Chooser) -> None:
    """An instance with several network interfaces, some with IPv6 addresses."""
    instance = finding.get("resource", {}).get("instanceDetails")
    if not instance or not instance.get("networkInterfaces"):
        return
    rng = random.Random(choose.seed())
    first = instance["networkInterfaces"][0]
    region = finding.get("region", "us-east-1")
    for index in range(choose.integer(1, 3)):
        private = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(4, 251)}"
        dns = f"ip-{private.replace('.', '-')}." + ("ec2.internal" if region == "us-east-1"
                                                  else f"{region}.compute.internal")
        interface = {"ipv6Addresses": [f"2600:1f18:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}::"
                                       f"{rng.getrandbits(16):x}"] if choose.boolean() else [],
                     "networkInterfaceId": ids.ec2_id("eni", rng), "privateDnsName": dns,
                     "privateIpAddress": private,
                     "privateIpAddresses": [{"privateDnsName": dns, "privateIpAddress": private}],
                     "subnetId": ids.ec2_id("subnet", rng) if index else first.get("subnetId", ""),
                     "vpcId": first.get("vpcId", ""), "securityGroups": list(first.get("securityGroups", []))}
        instance["networkInterfaces"].append(interface)


def cross_account_principal(finding: dict, choose: Chooser) -> None:
    """A caller from another AWS account (affiliated through the organisation or not)."""
    rng = random.Random(choose.seed())
    account = finding.get("accountId", "")
    call = finding.get("service", {}).get("action", {}).get("awsApiCallAction")
    if call is not None:
        call["remoteAccountDetails"] = {"accountId": ids.other_account(rng, account), "affiliated": choose.boolean()}
    key = finding.get("resource", {}).get("accessKeyDetails")
    if key is not None and key.get("userType") != "Root" and choose.boolean():
        key.update(accessKeyId=ids.access_key_id(rng, temporary=True), userType="AssumedRole",
                   principalId=f"{ids.unique_id('AROA', rng)}:{choose.choice(('ci', 'audit', 'break-glass'))}",
                   userName=choose.choice(("OrganizationAccountAccessRole", "AWSReservedSSO_Admin_0123456789abcdef")))
    user = finding.get("resource", {}).get("kubernetesDetails", {}).get("kubernetesUserDetails")
    if user and user.get("username", "").startswith("arn:"):
        other = ids.other_account(rng, account)
        user["username"] = f"arn:aws:sts::{other}:assumed-role/eks-admin/{ids.hex_digits(rng, 8)}"


def archived(finding: dict, choose: Chooser) -> None:
    if "service" in finding:
        finding["service"]["archived"] = True


def sample(finding: dict, choose: Chooser) -> None:
    """A sample finding (CreateSampleFindings): additionalInfo.sample true, flattened and in value."""
    service = finding.get("service")
    if service is None:
        return
    info = dict(service.get("additionalInfo") or {})
    info.pop("value", None)
    info.pop("type", None)
    info["sample"] = True
    service["additionalInfo"] = {**info, "value": dumps(info), "type": "default"}


def unicode_strings(finding: dict, choose: Chooser) -> None:
    """Unicode in free-text members: tags, title, description, image description."""
    resource = finding.get("resource", {})
    for member in _TAGGED:
        details = resource.get(member)
        if isinstance(details, dict) and isinstance(details.get("tags"), list):
            details["tags"].append({"key": choose.text(min_size=1, max_size=40),
                                    "value": choose.text(max_size=80)})
    for key in ("title", "description"):
        if isinstance(finding.get(key), str) and choose.boolean():
            finding[key] = f"{finding[key]} {choose.text(min_size=1, max_size=60)}"
    instance = resource.get("instanceDetails")
    if instance and "imageDescription" in instance and choose.boolean():
        instance["imageDescription"] = choose.text(min_size=1, max_size=255)


def max_length_strings(finding: dict, choose: Chooser) -> None:
    """Strings at the longest AWS allows: EC2 tag keys 128 and values 256 characters, IAM user names 64."""
    resource = finding.get("resource", {})
    for member in _TAGGED:
        details = resource.get(member)
        if isinstance(details, dict) and isinstance(details.get("tags"), list):
            key = (choose.text(min_size=1, max_size=8) + "k" * 128)[:128]
            value = (choose.text(max_size=8) + "v" * 256)[:256]
            details["tags"].append({"key": key, "value": value})
    key_details = resource.get("accessKeyDetails")
    if key_details and key_details.get("userType") == "IAMUser":
        key_details["userName"] = ("svc-" + "a" * 64)[:64]
    for bucket in resource.get("s3BucketDetails") or ():
        for obj in bucket.get("s3ObjectDetails") or ():
            prefix = "deep/" * 200
            obj["key"] = (prefix + obj.get("key", "object"))[-1024:]
            obj["objectArn"] = f"{bucket.get('arn', '')}/{obj['key']}"


def high_count(finding: dict, choose: Chooser) -> None:
    service = finding.get("service")
    if service is not None and "count" in service:
        service["count"] = choose.integer(2, 2**31 - 1)


def whole_second_times(finding: dict, choose: Chooser) -> None:
    """Timestamps without milliseconds (older findings and some exports write them so)."""
    def trim(text: object) -> object:
        return f"{text[:19]}Z" if isinstance(text, str) and len(text) >= 19 else text

    for key in ("createdAt", "updatedAt"):
        if key in finding:
            finding[key] = trim(finding[key])
    service = finding.get("service", {})
    for key in ("eventFirstSeen", "eventLastSeen"):
        if key in service:
            service[key] = trim(service[key])


def several_buckets(finding: dict, choose: Chooser) -> None:
    buckets = finding.get("resource", {}).get("s3BucketDetails")
    if not buckets or "s3ObjectDetails" in buckets[0]:
        return
    rng = random.Random(choose.seed())
    second = dict(buckets[0])
    name = f"{buckets[0].get('name', 'bucket')[:40]}-replica-{ids.hex_digits(rng, 6)}"
    second.update(name=name, arn=f"arn:aws:s3:::{name}", type="Source")
    buckets.append(second)


def impersonation(finding: dict, choose: Chooser) -> None:
    user = finding.get("resource", {}).get("kubernetesDetails", {}).get("kubernetesUserDetails")
    if user and user.get("username") != "system:anonymous":
        user["impersonatedUser"] = {"username": "system:serviceaccount:kube-system:"
                                                + choose.choice(("replicaset-controller", "default", "admin")),
                                    "groups": ["system:serviceaccounts", "system:authenticated"]}


def deep_lineage(finding: dict, choose: Chooser) -> None:
    process = finding.get("service", {}).get("runtimeDetails", {}).get("process")
    if not process or not process.get("lineage"):
        return
    lineage = process["lineage"]
    for _ in range(choose.integer(1, 8)):
        parent = dict(lineage[-1])
        parent.update(pid=max(1, int(parent.get("pid", 2)) - 1), name="bash", executablePath="/usr/bin/bash")
        lineage.append(parent)


# name -> mutation; every finding family gets all of them (each is a no-op where it does not apply)
VALID_MUTATIONS: dict[str, Mutation] = {
    "severity-edge": severity_edge,
    "drop-optional": drop_optional,
    "nulls": nulls,
    "ipv6-remote": ipv6_remote,
    "several-enis": several_enis,
    "cross-account-principal": cross_account_principal,
    "archived": archived,
    "sample": sample,
    "unicode-strings": unicode_strings,
    "max-length-strings": max_length_strings,
    "high-count": high_count,
    "whole-second-times": whole_second_times,
    "several-buckets": several_buckets,
    "impersonation": impersonation,
    "deep-lineage": deep_lineage,
}


def apply_mutations(finding: dict, choose: Chooser, names: tuple[str, ...] | None = None) -> list[str]:
    """Apply a chosen subset of mutations; returns the names applied."""
    applied = []
    for name in names if names is not None else tuple(VALID_MUTATIONS):
        if choose.boolean(0.35):
            VALID_MUTATIONS[name](finding, choose)
            applied.append(name)
    return applied


def valid_variant(rng: random.Random, type_name: str, *, account_id: str = "123456789012",
                  region: str = "us-east-1", now: datetime | None = None, resource: dict | None = None) -> dict:
    """A valid finding of ``type_name`` with a random subset of the schema-exploring mutations applied."""
    recipe_for(type_name)  # unknown and retired names fail here, before any drawing
    finding = generate_finding(type_name, rng=rng, account_id=account_id, region=region, now=now,
                               resource=resource)
    apply_mutations(finding, RandomChooser(rng))
    return finding
