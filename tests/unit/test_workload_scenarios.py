"""The workload, network and data runbooks as files: they load, cover their threat purposes, agree with
their reference responders, and the scenario checks they rely on refuse what they should."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from responders import network, s3
from simulator.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[2]
WORKLOAD_SCENARIOS = {
    "unauthorizedaccess-ssh-brute-force": "UnauthorizedAccess:EC2/SSHBruteForce",
    "unauthorizedaccess-ssh-break-in": "UnauthorizedAccess:EC2/SSHBruteForce",
    "unauthorizedaccess-rdp-brute-force": "UnauthorizedAccess:EC2/RDPBruteForce",
    "impact-winrm-brute-force-outbound": "Impact:EC2/WinRMBruteForce",
    "recon-ec2-port-probe": "Recon:EC2/PortProbeUnprotectedPort",
    "behavior-ec2-unusual-port": "Behavior:EC2/NetworkPortUnusual",
    "backdoor-ec2-command-and-control": "Backdoor:EC2/C&CActivity.B!DNS",
    "trojan-ec2-dns-exfiltration": "Trojan:EC2/DNSDataExfiltration",
    "execution-ec2-malicious-file": "Execution:EC2/MaliciousFile",
    "policy-s3-public-access-granted": "Policy:S3/BucketPublicAccessGranted",
    "policy-s3-block-public-access-off": "Policy:S3/BucketBlockPublicAccessDisabled",
    "exfiltration-s3-malicious-ip-caller": "Exfiltration:S3/MaliciousIPCaller",
    "pentest-s3-kali-linux": "PenTest:S3/KaliLinux",
    "object-s3-malicious-file": "Object:S3/MaliciousFile",
    "discovery-s3-anomalous-behavior": "Discovery:S3/AnomalousBehavior",
    "attacksequence-s3-compromised-data": "AttackSequence:S3/CompromisedData",
    "policy-eks-anonymous-access": "Policy:Kubernetes/AnonymousAccessGranted",
    "discovery-rds-malicious-ip-caller": "Discovery:RDS/MaliciousIPCaller",
}
CONTAINMENT = {"instance_quarantined", "volumes_snapshotted", "instance_stopped", "role_credentials_revoked"}


@pytest.fixture(scope="module")
def scenarios() -> dict[str, object]:
    return {name: load_scenario(name) for name in WORKLOAD_SCENARIOS}


def test_every_runbook_loads_and_injects_its_type_first(scenarios: dict) -> None:
    for name, first_type in WORKLOAD_SCENARIOS.items():
        scenario = scenarios[name]
        assert scenario.id == name
        assert scenario.findings[0].type == first_type
        assert scenario.source_path == ROOT / "scenarios" / f"{name}.yaml"


def test_the_runbooks_cover_the_workload_threat_purposes(scenarios: dict) -> None:
    assert {s.threat_purpose for s in scenarios.values()} >= {
        "Backdoor", "Behavior", "Trojan", "Recon", "Execution", "Impact", "PenTest", "Object", "Discovery",
        "AttackSequence", "Exfiltration", "Policy", "UnauthorizedAccess"}


def test_each_reference_responder_has_a_playbook_for_every_type_it_is_sent(scenarios: dict) -> None:
    for scenario in scenarios.values():
        module = scenario.responder.handler.split(":")[0]
        prefixes = scenario.responder.environment.get("FINDING_TYPES", "")
        for type_name in scenario.finding_types:
            if module == "responders.network":
                assert type_name in network.PLAYBOOKS, (scenario.id, type_name)
            elif module == "responders.s3":
                assert type_name in s3.PLAYBOOKS, (scenario.id, type_name)
            else:
                assert module == "responders.notify_escalate", scenario.id
                assert type_name.startswith(tuple(p.strip() for p in prefixes.split(","))), (scenario.id, type_name)


def test_a_resource_marked_bystander_is_never_expected_to_be_contained(scenarios: dict) -> None:
    # Marking the finding's own instance as a bystander is how a runbook says "leave it in service".
    for scenario in scenarios.values():
        bystanders = scenario.environment.bystander_names
        for step in scenario.steps:
            if step.expect.kind in CONTAINMENT:
                assert not set(step.expect.params.values()) & bystanders, (scenario.id, step.id)


def test_every_runbook_can_fail_and_pages_through_a_ladder(scenarios: dict) -> None:
    for scenario in scenarios.values():
        assert scenario.escalation.levels[0].level == 1 and len(scenario.escalation.levels) >= 2
        assert scenario.responder.environment["EVIDENCE_BUCKET"] == "${ir-evidence.bucket_name}"
        assert all(step.within_seconds <= 3600 for step in scenario.steps)


# ---------------------------------------------------------------- checks these runbooks rely on


def _variant(tmp_path: Path, name: str, change: object) -> Path:
    data = yaml.safe_load((ROOT / "scenarios" / f"{name}.yaml").read_text())
    change(data)  # type: ignore[operator]
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_finding_about_a_resource_no_scenario_builds_may_name_none(tmp_path: Path) -> None:
    scenario = load_scenario(_variant(tmp_path, "policy-eks-anonymous-access", lambda data: None))
    assert scenario.findings[0].resource is None


def test_a_finding_about_an_instance_must_still_name_one(tmp_path: Path) -> None:
    def drop_resource(data: dict) -> None:
        del data["findings"][0]["resource"]

    with pytest.raises(ScenarioError, match=r"findings\[0\]\.resource: missing"):
        load_scenario(_variant(tmp_path, "backdoor-ec2-command-and-control", drop_resource))


def test_evidence_must_name_a_bucket(tmp_path: Path) -> None:
    def evidence_topic(data: dict) -> None:
        data["steps"][1]["expect"]["evidence"] = "ir-oncall"

    with pytest.raises(ScenarioError, match="'ir-oncall' is a topic, not a bucket"):
        load_scenario(_variant(tmp_path, "policy-s3-public-access-granted", evidence_topic))


def test_a_kind_without_its_parameters_is_refused(tmp_path: Path) -> None:
    def no_evidence(data: dict) -> None:
        del data["steps"][1]["expect"]["evidence"]

    with pytest.raises(ScenarioError, match="bucket_policy_preserved takes"):
        load_scenario(_variant(tmp_path, "policy-s3-public-access-granted", no_evidence))
