"""The identity runbooks as files: each loads, covers its purpose, has bystanders to protect, and the
scenario format's rules for retired types, root-user findings and instance credentials hold."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from simulator import paths
from simulator.catalog import get_type
from simulator.errors import InputError
from simulator.findings import aggregate_update, generate_finding, recipe_for
from simulator.findings.retired import finding_type, retired_type
from simulator.scenario import ScenarioError, load_scenario

RETIRED_SCENARIO = "unauthorizedaccess-unusual-asn-caller"
IDENTITY_SCENARIOS = {
    RETIRED_SCENARIO: "UnauthorizedAccess",
    "unauthorizedaccess-malicious-ip-caller": "UnauthorizedAccess",
    "unauthorizedaccess-instance-credentials": "UnauthorizedAccess",
    "credentialaccess-anomalous-user": "CredentialAccess",
    "discovery-anomalous-user": "Discovery",
    "persistence-anomalous-user": "Persistence",
    "privilegeescalation-anomalous-user": "PrivilegeEscalation",
    "defenseevasion-anomalous-user": "DefenseEvasion",
    "stealth-cloudtrail-logging-disabled": "Stealth",
    "policy-root-credential-usage": "Policy",
    "recon-malicious-ip-caller": "Recon",
    "initialaccess-anomalous-user": "InitialAccess",
    "impact-anomalous-user": "Impact",
    "exfiltration-anomalous-user": "Exfiltration",
    "pentest-kali-linux-user": "PenTest",
    "defenseimpairment-flow-logs-deleted": "DefenseImpairment",
    "lateralmovement-ssh-key-pushed": "LateralMovement",
    "resourcedevelopment-ses-identity": "ResourceDevelopment",
}
IDENTITY_HANDLERS = {"responders.iam_user:handler", "responders.instance_credentials:handler"}
USER = {"kind": "user", "name": "alice", "id": "AIDAEXAMPLEALICE0001", "user_name": "run-alice",
        "arn": "arn:aws:iam::123456789012:user/run-alice", "access_keys": [{"id": "AKIAEXAMPLEALICE0001"}],
        "console_password": True, "tags": {}}


def scenario_data(name: str) -> dict:
    return yaml.safe_load((paths.SCENARIOS_DIR / f"{name}.yaml").read_text())


def problems(data: dict, tmp_path: Path) -> list[str]:
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ScenarioError) as refused:
        load_scenario(str(path))
    return [line.split(": ", 1)[1] for line in str(refused.value).splitlines()]


@pytest.mark.parametrize("name", sorted(IDENTITY_SCENARIOS))
def test_each_identity_runbook_is_complete_and_has_bystanders(name: str) -> None:
    scenario = load_scenario(name)

    assert scenario.threat_purpose == IDENTITY_SCENARIOS[name]
    assert all(get_type(t).resource_types == ("AccessKey",) for t in scenario.finding_types
               if not scenario.allow_retired_types)
    assert scenario.responder.handler in IDENTITY_HANDLERS
    pattern = scenario.responder.rule.event_pattern
    assert pattern["source"] == ["aws.guardduty"] and pattern["detail-type"] == ["GuardDuty Finding"]
    assert scenario.problem and len(scenario.data_to_gather) >= 3
    # Blast-radius checks need something to protect: another user and another role, never the subject.
    bystanders = scenario.environment.bystander_names
    subjects = {spec.resource for spec in scenario.findings}
    assert {u.name for u in scenario.environment.users} & bystanders
    assert {r.name for r in scenario.environment.roles} & bystanders
    assert not subjects & bystanders
    # A notification always, within the hour, and an escalation ladder with more than one rung.
    kinds = [step.expect.kind for step in scenario.steps]
    assert "notification_delivered" in kinds
    assert all(step.within_seconds <= 3600 for step in scenario.steps)
    assert len(scenario.escalation.levels) >= 2


def test_the_purposes_the_identity_runbooks_cover() -> None:
    assert {load_scenario(name).threat_purpose for name in IDENTITY_SCENARIOS} == set(IDENTITY_SCENARIOS.values())


def test_a_retired_type_needs_the_explicit_opt_in(tmp_path: Path) -> None:
    data = scenario_data(RETIRED_SCENARIO)
    assert data.pop("allow_retired_types") is True

    lines = problems(data, tmp_path)

    assert lines == ["finding_types[0]: finding type 'UnauthorizedAccess:IAMUser/UnusualASNCaller' is retired "
                     "(pick an active type (`simulate list types` shows them), or set allow_retired_types: true)"]
    scenario = load_scenario(RETIRED_SCENARIO)
    assert scenario.allow_retired_types is True
    assert scenario.findings[0].type == "UnauthorizedAccess:IAMUser/UnusualASNCaller"


def test_the_opt_in_without_a_retired_type_is_refused(tmp_path: Path) -> None:
    data = scenario_data("unauthorizedaccess-malicious-ip-caller")
    data["allow_retired_types"] = True

    assert problems(data, tmp_path) == ["allow_retired_types: no listed finding type is retired "
                                        "(remove allow_retired_types)"]


def test_a_root_user_finding_binds_no_resource(tmp_path: Path) -> None:
    assert load_scenario("policy-root-credential-usage").findings[0].resource is None
    data = scenario_data("policy-root-credential-usage")
    data["findings"][0]["resource"] = "break-glass-admin"
    assert problems(data, tmp_path) == [
        "findings[0].resource: Policy:IAMUser/RootCredentialUsage is about the account's root user, which no "
        "scenario builds (remove resource)"]

    other = scenario_data("recon-malicious-ip-caller")
    del other["findings"][0]["resource"]
    assert problems(other, tmp_path) == ["findings[0].resource: missing (add resource: NAME)"]


def test_instance_credentials_bind_an_instance_or_its_role_never_a_user(tmp_path: Path) -> None:
    data = scenario_data("unauthorizedaccess-instance-credentials")
    data["findings"][0]["resource"] = "deploy-user"

    [line] = problems(data, tmp_path)

    assert line.startswith("findings[0].resource: 'deploy-user' is a user, not an instance or role")
    data["findings"][0]["resource"] = "orders-role"
    path = tmp_path / "by-role.yaml"
    path.write_text(yaml.safe_dump({**data, "id": "by-role"}, sort_keys=False))
    assert load_scenario(str(path)).findings[0].resource == "orders-role"


def test_the_factory_makes_a_retired_type_only_when_asked() -> None:
    name = "UnauthorizedAccess:IAMUser/UnusualASNCaller"
    with pytest.raises(InputError, match="retired"):
        generate_finding(name, rng=random.Random(1), resource=USER)
    with pytest.raises(InputError, match="retired"):
        recipe_for(name)

    finding = generate_finding(name, rng=random.Random(1), resource=USER, allow_retired=True)

    assert finding["type"] == name
    assert finding["resource"]["accessKeyDetails"]["userName"] == "run-alice"
    assert finding["resource"]["accessKeyDetails"]["accessKeyId"] == "AKIAEXAMPLEALICE0001"
    assert 7.0 <= finding["severity"] <= 8.9  # its last documented severity was High
    assert "unusual" in finding["title"]
    later = aggregate_update(finding, rng=random.Random(2), occurrences=3)
    assert later["service"]["count"] == finding["service"]["count"] + 3


def test_retired_records_come_from_the_retired_list() -> None:
    record = retired_type("UnauthorizedAccess:IAMUser/UnusualASNCaller")
    assert (record.status, record.threat_purpose, record.resource_types) == ("retired", "UnauthorizedAccess",
                                                                             ("AccessKey",))
    assert finding_type("Recon:IAMUser/MaliciousIPCaller", allow_retired=True).status.startswith("active")
    with pytest.raises(InputError, match="is not retired"):
        retired_type("Recon:IAMUser/MaliciousIPCaller")
    with pytest.raises(InputError, match="unknown finding type"):
        retired_type("Recon:IAMUser/NoSuchThing")
