"""One occurrence of a finding's activity: what a new finding reports, and what an update overwrites.

GuardDuty overwrites a finding's details with its latest occurrence (new remote address, new domain,
new process) while the resource stays; aggregate_update calls ``occurrence`` again for that reason.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from simulator.findings import actions, ids, runtime, scans, sequences
from simulator.findings.actions import Context, Facts
from simulator.findings.networks import draw_remote
from simulator.findings.recipes import (
    ApiSpec,
    CdrSpec,
    DnsSpec,
    K8sSpec,
    NetSpec,
    ProbeSpec,
    RdsSpec,
    Recipe,
    RuntimeSpec,
    ScanSpec,
    SequenceSpec,
)
from simulator.findings.texts import describe
from simulator.findings.values import between, pick

_BRUTE_FORCE = ("SSHBruteForce", "RDPBruteForce", "WinRMBruteForce")
_USUAL_APIS = ("DescribeInstances", "GetObject", "ListBuckets", "AssumeRole", "PutObject")


@dataclass
class Occurrence:
    action: dict | None
    role: str
    info: dict
    evidence: dict | None
    title: str
    description: str
    label: str | None = None  # severity label the activity implies (None: any of the type's labels)
    feature: str | None = None
    runtime: dict | None = None
    ebs_scan: dict | None = None
    malware_scan: dict | None = None
    detection: dict | None = None
    custom_rule: str | None = None


def _allowed(recipe: Recipe, label: str) -> str | None:
    return label if label in recipe.severity_labels else None


def occurrence(recipe: Recipe, subject: dict[str, str], slots: dict[str, dict], section: dict, ctx: Context,
               rng: random.Random, now_ms: int, *, detector: str = "") -> Occurrence:
    spec = recipe.spec
    family = recipe.family
    if isinstance(spec, NetSpec):
        action, facts = actions.network_connection(spec, subject, rng)
        label = None
        if recipe.type_name.endswith(_BRUTE_FORCE):
            label = _allowed(recipe, "High" if facts.direction == "OUTBOUND" else "Low")
        return _finish(recipe, subject, facts, action, facts.extra,
                       actions.threat_evidence(spec.threat, spec.custom_list, ctx, rng), label)
    if isinstance(spec, DnsSpec):
        action, facts = actions.dns_request(spec, ctx, rng)
        return _finish(recipe, subject, facts, action, {},
                       actions.threat_evidence(spec.threat, spec.custom_list, ctx, rng), None)
    if isinstance(spec, ProbeSpec):
        action, facts = actions.port_probe(spec, subject, rng)
        label = _allowed(recipe, "High") if facts.local_port in spec.high_ports else _allowed(recipe, "Low")
        return _finish(recipe, subject, facts, action, {}, None, label)
    if isinstance(spec, ApiSpec):
        return _api(recipe, spec, subject, ctx, rng)
    if isinstance(spec, CdrSpec):
        signal = pick(rng, spec.signals)
        affected = _affected_name(signal.affected, slots, ctx, rng)
        action, facts = actions.signal_call(signal, affected, ctx, rng)
        occ = _finish(recipe, subject, facts, action, {}, None, _allowed(recipe, signal.severity))
        occ.custom_rule = signal.name
        return occ
    if isinstance(spec, K8sSpec):
        action, facts = actions.kubernetes_call(spec, subject, ctx, rng)
        occ = _finish(recipe, subject, facts, action, {},
                      actions.threat_evidence(spec.threat, spec.custom_list, ctx, rng), None)
        if spec.anomaly:
            call = action["kubernetesApiCallAction"]
            occ.detection = actions.anomaly(f"{spec.verb} {spec.resource}", ("get pods", "list deployments"),
                                            call["remoteIpDetails"]["organization"]["asn"], call["userAgent"])
        return occ
    if isinstance(spec, RdsSpec):
        return _rds(recipe, spec, subject, ctx, rng)
    if isinstance(spec, RuntimeSpec):
        return _runtime(recipe, spec, subject, ctx, rng, now_ms)
    if isinstance(spec, ScanSpec):
        return _scan(recipe, spec, subject, section, rng, now_ms)
    if isinstance(spec, SequenceSpec):
        return _sequence(recipe, spec, slots, ctx, rng, now_ms, detector)
    raise LookupError(f"no occurrence builder for {family}")


def _finish(recipe: Recipe, subject: dict[str, str], facts: Facts, action: dict | None, info: dict,
            evidence: dict | None, label: str | None) -> Occurrence:
    title, description = describe(recipe, subject, facts)
    return Occurrence(action=action, role=facts.role, info=info, evidence=evidence, title=title,
                      description=description, label=label)


def _api(recipe: Recipe, spec: ApiSpec, subject: dict[str, str], ctx: Context, rng: random.Random) -> Occurrence:
    action, facts = actions.api_call(spec, subject, ctx, rng)
    occ = _finish(recipe, subject, facts, action, {}, actions.threat_evidence(spec.threat, spec.custom_list, ctx, rng),
                  None)
    if spec.anomaly:
        call = action["awsApiCallAction"]
        occ.detection = actions.anomaly(facts.api, _USUAL_APIS, call["remoteIpDetails"]["organization"]["asn"],
                                        call["userAgent"])
    return occ


def _affected_name(affected: str, slots: dict[str, dict], ctx: Context, rng: random.Random) -> str:
    bound = slots.get("affected") or {}
    if affected == "AWS::EC2::Instance" and bound.get("kind") == "instance":
        return bound["id"]
    if affected == "AWS::S3::Bucket" and bound.get("kind") == "bucket":
        return bound.get("name") or bound.get("bucket_name") or bound["id"]
    word = pick(rng, ctx.pools.words)
    return {
        "AWS::EC2::Instance": ids.ec2_id("i", rng), "AWS::EC2::FlowLog": f"fl-{ids.hex_digits(rng, 17)}",
        "AWS::EC2::Image": ids.ec2_id("ami", rng), "AWS::EC2::Snapshot": ids.ec2_id("snap", rng),
        "AWS::EC2::SecurityGroup": ids.ec2_id("sg", rng), "AWS::S3::Bucket": f"{word}-{ids.hex_digits(rng, 8)}",
        "AWS::RDS::DBInstance": f"{word}-db-1", "AWS::RDS::DBSnapshot": f"{word}-snapshot-{between(rng, 1, 99)}",
        "AWS::IAM::User": pick(rng, ctx.pools.user_names), "AWS::IAM::Role": f"{word}-role",
        "AWS::Lambda::Function": f"{word}-handler", "AWS::SES::Account": ctx.account,
        "AWS::SES::EmailIdentity": f"mail.{word}.com", "AWS::Organizations::Account": ctx.account,
        "AWS::Organizations::Root": f"r-{ids.hex_digits(rng, 4)}",
        "AWS::RolesAnywhere::TrustAnchor": ids.rng_uuid(rng),
        "AWS::Route53Resolver::ResolverQueryLoggingConfig": f"rqlc-{ids.hex_digits(rng, 16)}",
        "AWS::SageMaker::NotebookInstanceLifecycleConfig": f"{word}-lifecycle",
    }.get(affected, word)


def _rds(recipe: Recipe, spec: RdsSpec, subject: dict[str, str], ctx: Context, rng: random.Random) -> Occurrence:
    action, facts = actions.rds_login(spec, subject, rng)
    info: dict = {}
    if spec.anomaly:
        organization = action["rdsLoginAttemptAction"]["remoteIpDetails"]["organization"]
        counts = {"failedLoginCount": facts.extra["failed"], "successfulLoginCount": facts.extra["succeeded"],
                  "incompleteConnectionCount": 0}
        info["unusualBehavior"] = {
            "unusualUserNameClusterProfiling": {"userName": subject.get("db_user", ""), **counts},
            "unusualASNClusterProfiling": {"asnOrg": organization["asnOrg"], **counts},
            "unusualApplicationNameClusterProfiling": {"applicationName": subject.get("db_application", ""),
                                                       **counts}}
    return _finish(recipe, subject, facts, action, info,
                   actions.threat_evidence(spec.threat, False, ctx, rng), None)


def _runtime(recipe: Recipe, spec: RuntimeSpec, subject: dict[str, str], ctx: Context, rng: random.Random,
             now_ms: int) -> Occurrence:
    action = None
    facts = Facts(role="ACTOR")
    evidence = None
    if spec.net:
        action, facts = actions.network_connection(spec.net, subject, rng)
        evidence = actions.threat_evidence(spec.net.threat, spec.net.custom_list, ctx, rng)
    elif spec.dns:
        action, facts = actions.dns_request(spec.dns, ctx, rng)
        evidence = actions.threat_evidence(spec.dns.threat, spec.dns.custom_list, ctx, rng)
    container = subject.get("resource_type") != "Instance"
    details, process_evidence = runtime.runtime_details(
        spec.behaviour, recipe.threat_purpose, rng, container=container,
        started_ms=now_ms - between(rng, 60_000, 3_600_000), remote_ip=facts.remote_ip, domain=facts.domain)
    facts.extra = {"process": details["process"]["executablePath"],
                   "command": details.get("context", {}).get("commandLineExample", "")}
    occ = _finish(recipe, subject, facts, action, {"agentDetails": {"agentVersion": pick(rng, runtime.AGENT_VERSIONS),
                                                                    "agentId": ids.rng_uuid(rng)}},
                  process_evidence or evidence, None)
    occ.feature = "RuntimeMonitoring"
    occ.runtime = details
    return occ


def _threat_for(recipe: Recipe, malicious: bool, rng: random.Random) -> tuple[str, str, str]:
    for _ in range(16):
        threat = scans.pick_threat(rng, malicious)
        if threat[2] in recipe.severity_labels:
            return threat
    return (*scans.pick_threat(rng, malicious)[:2], recipe.severity_labels[-1])


def _scan(recipe: Recipe, spec: ScanSpec, subject: dict[str, str], section: dict, rng: random.Random,
          now_ms: int) -> Occurrence:
    threat = _threat_for(recipe, spec.malicious, rng)
    facts = Facts(role="TARGET", extra={"threat": threat[0]})
    occ = _finish(recipe, subject, facts, None, {}, None, threat[2])
    if spec.target == "ebs":
        volumes = [volume["volumeArn"] for volume in
                   (section.get("ebsVolumeDetails") or {}).get("scannedVolumeDetails", [])]
        occ.ebs_scan = scans.ebs_scan(rng, threat, volumes, pick(rng, ("kdevtmpfsi", "kinsing", "xmr", "payload")),
                                      now_ms - between(rng, 60_000, 600_000))
        occ.feature = "EbsVolumeScan"
        return occ
    if spec.target == "s3-object":
        bucket = (section.get("s3BucketDetails") or [{}])[0]
        obj = (bucket.get("s3ObjectDetails") or [{}])[0]
        occ.malware_scan = scans.malware_scan(rng, threat, obj.get("objectArn", ""), backup=False,
                                              item_path=obj.get("key", ""), version_id=obj.get("versionId", ""))
        return occ
    arn = subject.get("image_arn") or subject.get("snapshot_arn") or subject.get("recovery_point_arn", "")
    occ.malware_scan = scans.malware_scan(rng, threat, arn, backup=True,
                                          item_path=pick(rng, ("/usr/local/bin/", "/tmp/", "/var/lib/")) +
                                          pick(rng, ("kinsing", "xmrig", "beacon.bin", "payload.elf")))
    return occ


def _sequence(recipe: Recipe, spec: SequenceSpec, slots: dict[str, dict], ctx: Context, rng: random.Random,
              now_ms: int, detector: str) -> Occurrence:
    actor_descriptor = slots.get("actor") or {}
    target_descriptor = slots.get("target") or {}
    if actor_descriptor.get("kind") == "role":
        actor = {"type": "AssumedRole", "name": actor_descriptor.get("role_name") or actor_descriptor["name"],
                 "uid": actor_descriptor.get("id") or ids.unique_id("AROA", rng)}
    else:
        user_name = actor_descriptor.get("user_name") or actor_descriptor.get("name") or pick(rng, ctx.pools.user_names)
        keys = actor_descriptor.get("access_keys") or [{"id": ids.access_key_id(rng)}]
        actor = {"type": "IAMUser", "name": user_name, "uid": actor_descriptor.get("id") or ids.unique_id("AIDA", rng),
                 "credential": keys[0]["id"]}
    target = _sequence_target(spec.scope, target_descriptor, ctx, rng)
    network, address = draw_remote(rng, pick(rng, ("tor", "attacker")))
    first_ms = now_ms - between(rng, 3_600_000, 5 * 86_400_000)
    detection, description = sequences.sequence(
        spec.scope, rng, account=ctx.account, region=ctx.region, partition=ctx.partition, detector=detector,
        actor=actor, target=target, endpoint=(network, address), first_ms=first_ms, last_ms=now_ms - 60_000)
    noun = {"IAM": f"credentials of {actor['type']}/{actor['name']}", "S3": "data in one or more S3 buckets",
            "EKS": f"EKS cluster {target['name']}", "ECS": f"ECS cluster {target['name']}",
            "EC2": "a group of EC2 instances"}[spec.scope]
    title = f"Potential compromise of {noun} indicated by a sequence of actions."
    occ = Occurrence(action=None, role="TARGET", info={}, evidence=None, title=title, description=description,
                     label="Critical", feature="Correlation", detection=detection)
    return occ


def _sequence_target(scope: str, bound: dict, ctx: Context, rng: random.Random) -> dict:
    kind = bound.get("kind")
    if kind == "bucket":
        name = bound.get("name") or bound.get("bucket_name") or bound["id"]
        return {"uid": bound.get("arn") or f"arn:{ctx.partition}:s3:::{name}", "name": name,
                "type": "S3_BUCKET", "service": "s3"}
    if kind == "instance":
        return {"uid": bound["id"], "name": (bound.get("tags") or {}).get("Name", bound["id"]),
                "type": "EC2_INSTANCE", "service": "ec2"}
    if kind in ("eks_cluster", "ecs_cluster"):
        return {"uid": bound["arn"], "name": bound["name"], "type": "EKS_CLUSTER" if kind == "eks_cluster"
                else "ECS_CLUSTER", "service": kind.split("_")[0]}
    word = pick(rng, ctx.pools.words)
    if scope == "S3":
        name = f"{word}-data-{ids.hex_digits(rng, 6)}"
        return {"uid": f"arn:{ctx.partition}:s3:::{name}", "name": name, "type": "S3_BUCKET", "service": "s3"}
    if scope in ("EKS", "ECS"):
        service = scope.lower()
        name = f"{word}-cluster"
        return {"uid": f"arn:{ctx.partition}:{service}:{ctx.region}:{ctx.account}:cluster/{name}", "name": name,
                "type": f"{scope}_CLUSTER", "service": service}
    if scope == "EC2":
        instance = ids.ec2_id("i", rng)
        return {"uid": instance, "name": instance, "type": "EC2_INSTANCE", "service": "ec2"}
    key = ids.access_key_id(rng)
    return {"uid": key, "name": key, "type": "ACCESS_KEY", "service": "iam"}
