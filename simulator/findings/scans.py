"""Malware Protection results: ``service.ebsVolumeScanDetails`` (EC2 volume scans) and
``service.malwareScanDetails`` (AWS Backup and S3 object scans).

The detected threat's severity decides the finding's band ("Varies (by detected threat)" in the
catalog): a suspicious file reports Low or Medium, a malicious one Medium or High.
"""

from __future__ import annotations

import random

from simulator.findings import ids
from simulator.findings.clock import epoch_seconds
from simulator.findings.values import below, between, pick

MALICIOUS_THREATS = (("Trojan.Linux.Kinsing", "HIGH"), ("Backdoor.Linux.Tsunami", "HIGH"),
                     ("Coinminer.Linux.XMRig", "MEDIUM"), ("Trojan.Win32.CobaltStrike", "HIGH"),
                     ("Ransom.Win32.LockBit", "HIGH"), ("EICAR-Test-File (not a virus)", "MEDIUM"))
SUSPICIOUS_THREATS = (("PUA.Linux.Proxy", "LOW"), ("HackTool.Linux.Mimipenguin", "MEDIUM"),
                      ("Riskware.Win32.RemoteAdmin", "LOW"))
_LABEL = {"HIGH": "High", "MEDIUM": "Medium", "LOW": "Low"}
_PATHS = ("/tmp/.x/{stem}", "/var/tmp/{stem}", "/home/ubuntu/.cache/{stem}", "/usr/local/bin/{stem}",
          "C:\\Users\\Public\\{stem}.exe", "/opt/app/vendor/{stem}.so")


def pick_threat(rng: random.Random, malicious: bool) -> tuple[str, str, str]:
    """(threat name, threat severity, the finding's severity label)."""
    name, severity = pick(rng, MALICIOUS_THREATS if malicious else SUSPICIOUS_THREATS)
    return name, severity, _LABEL[severity]


def ebs_scan(rng: random.Random, threat: tuple[str, str, str], volume_arns: list[str], stem: str,
             completed_ms: int) -> dict:
    name, severity, _ = threat
    files = 1 + below(rng, 3)
    paths = []
    for index in range(files):
        path = pick(rng, _PATHS).format(stem=f"{stem}{index or ''}")
        paths.append({"filePath": path, "volumeArn": pick(rng, volume_arns) if volume_arns else "",
                      "hash": ids.sha256_hex(rng), "fileName": path.replace("\\", "/").rsplit("/", 1)[-1]})
    started = completed_ms - between(rng, 120_000, 1_800_000)
    return {"scanId": ids.hex_digits(rng, 32), "scanStartedAt": epoch_seconds(started),
            "scanCompletedAt": epoch_seconds(completed_ms), "triggerFindingId": ids.hex_digits(rng, 32),
            "sources": ["Amazon"],
            "scanDetections": {
                "scannedItemCount": {"totalGb": 8 * (1 + below(rng, 16)), "files": between(rng, 20_000, 400_000),
                                     "volumes": max(1, len(volume_arns))},
                "threatsDetectedItemCount": {"files": files},
                "highestSeverityThreatDetails": {"severity": severity, "threatName": name, "count": files},
                "threatDetectedByName": {"itemCount": files, "uniqueThreatNameCount": 1, "shortened": False,
                                         "threatNames": [{"name": name, "severity": severity, "itemCount": files,
                                                          "filePaths": paths}]}},
            "scanType": "GUARDDUTY_INITIATED" if rng.random() < 0.8 else "ON_DEMAND"}


def malware_scan(rng: random.Random, threat: tuple[str, str, str], resource_arn: str, *, backup: bool,
                 item_path: str, version_id: str = "") -> dict:
    name = threat[0]
    digest = ids.sha256_hex(rng)
    item: dict = {"resourceArn": resource_arn[:200], "itemPath": item_path[:200], "hash": digest}
    if version_id:
        item["additionalInfo"] = {"versionId": version_id[:200]}
    elif backup:
        item["additionalInfo"] = {"deviceName": "/dev/xvda"}
    incremental = backup and rng.random() < 0.3
    details: dict = {"threats": [{"name": name, "source": "Amazon", "count": 1, "hash": digest,
                                  "itemDetails": [item]}],
                     "scanId": ids.hex_digits(rng, 32),
                     "scanType": "BACKUP_INITIATED" if backup else "GUARDDUTY_INITIATED",
                     "scanCategory": "INCREMENTAL_SCAN" if incremental else "FULL_SCAN",
                     "scanConfiguration": {"triggerType": "BACKUP" if backup else "GUARDDUTY"},
                     "uniqueThreatCount": 1}
    if incremental:
        details["scanConfiguration"]["incrementalScanDetails"] = {"baselineResourceArn": resource_arn[:200]}
    return details
