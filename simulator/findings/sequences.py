"""Extended Threat Detection: ``service.detection.sequence`` for AttackSequence findings.

One Critical finding correlating signals (earlier findings and API calls) into a likely compromise, with
the MITRE ATT&CK tactics and techniques observed listed as sequence indicators.
"""

from __future__ import annotations

import random

from simulator.findings import ids
from simulator.findings.clock import epoch_seconds
from simulator.findings.networks import Network
from simulator.findings.values import below, pick

# scope -> (tactics, techniques, signals as (type, name), resource type of the target, high-risk APIs)
PLAYBOOKS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...], str, tuple[str, ...]]] = {
    "IAM": (("InitialAccess", "Discovery", "Persistence", "PrivilegeEscalation", "DefenseEvasion"),
            ("T1078.004 - Valid Accounts: Cloud Accounts", "T1087.004 - Account Discovery: Cloud Account",
             "T1098.003 - Account Manipulation: Additional Cloud Roles",
             "T1562.008 - Impair Defenses: Disable or Modify Cloud Logs"),
            (("FINDING", "Recon:IAMUser/TorIPCaller"), ("CLOUD_TRAIL", "iam:ListUsers"),
             ("CLOUD_TRAIL", "iam:AttachRolePolicy"), ("FINDING", "Stealth:IAMUser/CloudTrailLoggingDisabled")),
            "ACCESS_KEY", ("iam:ListUsers", "iam:CreateRole", "iam:AttachRolePolicy", "cloudtrail:DeleteTrail")),
    "S3": (("Discovery", "Exfiltration", "Impact", "DefenseEvasion"),
           ("T1526 - Cloud Service Discovery", "T1530 - Data from Cloud Storage", "T1485 - Data Destruction"),
           (("FINDING", "Discovery:S3/TorIPCaller"), ("S3_DATA_EVENTS", "s3:GetObject"),
            ("S3_DATA_EVENTS", "s3:DeleteObject"), ("CLOUD_TRAIL", "s3:PutBucketPublicAccessBlock")),
           "S3_BUCKET", ("s3:ListBuckets", "s3:GetObject", "s3:DeleteObject", "s3:PutBucketPublicAccessBlock")),
    "EKS": (("Execution", "Discovery", "PrivilegeEscalation", "Impact"),
            ("T1609 - Container Administration Command", "T1613 - Container and Resource Discovery",
             "T1611 - Escape to Host", "T1496 - Resource Hijacking"),
            (("FINDING", "Execution:Kubernetes/ExecInKubeSystemPod"), ("EKS_AUDIT_LOGS", "create pods/exec"),
             ("FINDING", "CryptoCurrency:Runtime/BitcoinTool.B"), ("RUNTIME_MONITORING", "xmrig")),
            "EKS_CLUSTER", ("create pods/exec", "list secrets")),
    "ECS": (("Execution", "Impact"), ("T1059 - Command and Scripting Interpreter", "T1496 - Resource Hijacking"),
            (("FINDING", "Execution:Runtime/SuspiciousCommand"), ("RUNTIME_MONITORING", "xmrig"),
             ("FINDING", "Impact:Runtime/CryptoMinerExecuted")),
            "ECS_CLUSTER", ()),
    "EC2": (("Execution", "CommandAndControl", "Impact"),
            ("T1059.004 - Command and Scripting Interpreter: Unix Shell",
             "T1071 - Application Layer Protocol", "T1496 - Resource Hijacking"),
            (("FINDING", "Execution:Runtime/ReverseShell"), ("FLOW_LOGS", "outbound connection"),
             ("DNS_LOGS", "mining pool query"), ("FINDING", "CryptoCurrency:EC2/BitcoinTool.B")),
            "EC2_INSTANCE", ()),
}


def sequence(scope: str, rng: random.Random, *, account: str, region: str, partition: str, detector: str,
             actor: dict, target: dict, endpoint: tuple[Network, str], first_ms: int, last_ms: int) -> tuple[dict, str]:
    """(detection section, description). ``actor``/``target`` carry names from the bound or fleet resources."""
    tactics, techniques, signal_specs, target_type, apis = PLAYBOOKS[scope]
    network, address = endpoint
    actor_id = f"{actor['type']}/{actor['name']}"
    target_uid = target["uid"]
    endpoint_id = address
    signals = []
    span = max(1, last_ms - first_ms)
    for index, (signal_type, name) in enumerate(signal_specs):
        seen = first_ms + span * index // max(1, len(signal_specs) - 1)
        uid = (f"arn:{partition}:guardduty:{region}:{account}:detector/{detector}/finding/{ids.finding_id(rng)}"
               if signal_type == "FINDING" else ids.hex_digits(rng, 32))
        signal = {"uid": uid, "type": signal_type, "description": name, "name": name,
                  "createdAt": epoch_seconds(seen), "updatedAt": epoch_seconds(seen),
                  "firstSeenAt": epoch_seconds(seen), "lastSeenAt": epoch_seconds(seen),
                  "severity": 5.0 if signal_type == "FINDING" else 0.0, "count": 1 + below(rng, 20),
                  "resourceUids": [target_uid], "actorIds": [actor_id], "endpointIds": [endpoint_id]}
        signals.append(signal)
    indicators = [{"key": "ATTACK_TACTIC", "values": list(tactics), "title": "MITRE ATT&CK tactics"},
                  {"key": "ATTACK_TECHNIQUE", "values": list(techniques), "title": "MITRE ATT&CK techniques"}]
    if apis:
        indicators.append({"key": "HIGH_RISK_API", "values": list(apis), "title": "High-risk APIs"})
    if network.kind == "tor":
        indicators.append({"key": "TOR_IP", "values": [address], "title": "Tor exit node"})
    user = {"name": actor["name"], "uid": actor["uid"], "type": actor["type"],
            "account": {"uid": account}}
    if actor.get("credential"):
        user["credentialUid"] = actor["credential"]
    description = (f"A sequence of actions involving {len(signals)} signals indicating a possible compromise "
                   f"was observed for {actor_id} in account {account}, with {len(tactics)} MITRE ATT&CK tactics "
                   f"({', '.join(tactics)}) and {len(techniques)} techniques.")
    detection = {"sequence": {
        "uid": ids.hex_digits(rng, 32), "description": description,
        "actors": [{"id": actor_id, "user": user,
                    "session": {"uid": ids.hex_digits(rng, 16), "mfaStatus": pick(rng, ("DISABLED", "ENABLED")),
                                "createdTime": epoch_seconds(first_ms - 60_000), "issuer": actor.get("issuer", "")}}],
        "resources": [{"uid": target_uid, "name": target["name"], "accountId": account,
                       "resourceType": target.get("type", target_type), "region": region,
                       "service": target.get("service", ""), "cloudPartition": partition, "tags": []}],
        "endpoints": [{"id": endpoint_id, "ip": address,
                       "location": {"city": network.city, "country": network.country, "lat": network.lat,
                                    "lon": network.lon},
                       "autonomousSystem": {"name": network.asn_org, "number": int(network.asn)},
                       "connection": {"direction": "INBOUND"}}],
        "signals": signals, "sequenceIndicators": indicators}}
    return detection, description
