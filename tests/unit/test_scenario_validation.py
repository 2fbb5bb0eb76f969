"""Scenario files: a good one loads; a bad one reports every problem, each with its line and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simulator import paths
from simulator.errors import InputError
from simulator.scenario import ScenarioError, list_scenarios, load_scenario, parse_scenario, scenario_names

CRYPTO = paths.SCENARIOS_DIR / "crypto.yaml"


def crypto_data() -> dict:
    return yaml.safe_load(CRYPTO.read_text())


def problems_of(text: str, tmp_path: Path, name: str = "x.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value.lines


def problems_of_data(data: dict, tmp_path: Path) -> list[str]:
    return problems_of(yaml.safe_dump(data, sort_keys=False), tmp_path)


# ---------------------------------------------------------------- the good file


def test_crypto_loads_by_name_with_its_runbook() -> None:
    scenario = load_scenario("crypto")
    assert scenario.id == "crypto"
    assert scenario.source_path == CRYPTO.resolve()
    assert scenario.finding_types == ["CryptoCurrency:EC2/BitcoinTool.B!DNS"]
    assert scenario.urgency == "high"
    assert [step.id for step in scenario.steps] == ["notify", "quarantine", "revoke-credentials", "snapshot", "stop"]
    assert [(s.expect.kind, s.expect.params) for s in scenario.steps] == [
        ("notification_delivered", {"topic": "ir-oncall"}),
        ("instance_quarantined", {"instance": "miner"}),
        ("role_credentials_revoked", {"instance": "miner"}),
        ("volumes_snapshotted", {"instance": "miner"}),
        ("instance_stopped", {"instance": "miner"}),
    ]
    notify = scenario.step("notify")
    assert (notify.within_seconds, notify.within_text) == (300.0, "5m")
    assert scenario.step("stop").within_seconds == 3600.0
    assert [(level.level, level.after_seconds) for level in scenario.escalation.levels] == [
        (1, 0.0), (2, 900.0), (3, 3600.0)]
    assert scenario.responder.handler == "responders.crypto:handler"
    assert scenario.responder.timeout_seconds == 60.0
    assert scenario.responder.environment["ONCALL_TOPIC_ARN"] == "${ir-oncall.arn}"
    assert scenario.findings[0].resource == "miner" and scenario.findings[0].delay_seconds == 0.0
    assert scenario.environment.bystander_names == {"neighbour", "batch-role", "deploy-user", "app-assets"}


def test_crypto_loads_by_path_too(tmp_path: Path) -> None:
    copy = tmp_path / "my-crypto.yaml"
    copy.write_text(CRYPTO.read_text())
    assert load_scenario(str(copy)).source_path == copy.resolve()


def test_listing_finds_the_scenarios_folder() -> None:
    assert "crypto" in scenario_names()
    assert "crypto" in [scenario.id for scenario in list_scenarios()]


def test_a_step_without_a_title_gets_one_from_its_expectation(tmp_path: Path) -> None:
    data = crypto_data()
    del data["steps"][1]["title"]
    path = tmp_path / "untitled.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_scenario(path).step("quarantine").title == "Quarantine miner"


def test_an_environment_without_security_groups_gets_the_default_one(tmp_path: Path) -> None:
    data = crypto_data()
    del data["environment"]["security_groups"]
    for instance in data["environment"]["instances"]:
        del instance["security_groups"]
    path = tmp_path / "default-sg.yaml"
    path.write_text(yaml.safe_dump(data))
    groups = load_scenario(path).environment.security_groups
    assert [group.name for group in groups] == ["app-sg"]
    assert {rule.cidr for rule in groups[0].ingress} == {"0.0.0.0/0", "10.20.0.0/16"}


# ---------------------------------------------------------------- finding the file


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(InputError) as caught:
        load_scenario("no-such-scenario")
    assert "unknown scenario 'no-such-scenario'" in str(caught.value)
    assert "crypto" in str(caught.value)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_scenario(str(tmp_path / "absent.yaml"))


def test_a_file_in_the_scenarios_folder_must_carry_its_name_as_id(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "SCENARIOS_DIR", tmp_path)
    (tmp_path / "renamed.yaml").write_text(CRYPTO.read_text())
    with pytest.raises(ScenarioError) as caught:
        load_scenario("renamed")
    assert caught.value.lines == [f"{_shown(tmp_path / 'renamed.yaml')}:2: id: id 'crypto' differs from the file "
                                  "name 'renamed.yaml' (rename the file to crypto.yaml or set id: renamed)"]


def test_listing_reports_the_problems_of_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "SCENARIOS_DIR", tmp_path)
    (tmp_path / "crypto.yaml").write_text(CRYPTO.read_text())
    (tmp_path / "one.yaml").write_text("id: one\n")
    (tmp_path / "two.yaml").write_text("id: two\nurgency: soon\n")
    with pytest.raises(ScenarioError) as caught:
        list_scenarios()
    assert any(line.startswith(f"{_shown(tmp_path / 'one.yaml')}:1: title: missing") for line in caught.value.lines)
    assert any(line.startswith(f"{_shown(tmp_path / 'two.yaml')}:2: urgency: 'soon' is not allowed")
               for line in caught.value.lines)


# ---------------------------------------------------------------- every problem, located

BROKEN = """\
id: broken
title: Several mistakes at once
threat_purpose: CryptoCurrency
finding_types: ["CryptoCurrency:EC2/BitcoinTool.B!DNS"]
urgency: urgent
problem: a miner
data_to_gather: [flow logs]
environment:
  vpc: {name: vpc, cidr: 10.20.0.0/16}
  subnets: [{name: app-a, cidr: 10.20.1.0/24}]
  instances:
    - {name: miner, subnet: app-b}
  topics: [{name: ir-oncall}]
  buckets: [{name: data, colour: red}]
findings:
  - {type: "CryptoCurrency:EC2/BitcoinTool.B!DNS", resource: data}
responder:
  handler: responders.crypto:handler
  environment: {ONCALL_TOPIC_ARN: "${ir-oncall.arm}", ISOLATION_VPC: "${ghost.id}"}
  rule: {name: r, event_pattern: {source: aws.guardduty}}
steps:
  - {id: notify, expect: {kind: notification_delivered, topic: ir-oncall}, within: 5m}
  - {id: quarantine, expect: {kind: instance_quarantined, instance: miner}, within: 5 minutes}
  - {id: stop, expect: {kind: instance_stopped, instance: ir-oncall}, within: 1h}
escalation:
  topic: ir-oncall
  levels: [{level: 1, contact: ir-oncall-primary, after: 0m}]
"""


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    lines = problems_of(BROKEN, tmp_path, "broken.yaml")
    shown = _shown(tmp_path / "broken.yaml")
    assert lines == [
        f"{shown}:5: urgency: 'urgent' is not allowed (use one of 'low', 'medium', 'high' or 'critical')",
        f"{shown}:12: environment.instances[0].subnet: subnet 'app-b' is not declared in the environment "
        "(subnets: app-a)",
        f"{shown}:14: environment.buckets[0].colour: unknown field (remove it or check the spelling; fields here: "
        "name, tags, bystander, block_public_access, versioning, policy, objects)",
        f"{shown}:16: findings[0].resource: 'data' is a bucket, not an instance (name an instance: miner)",
        f"{shown}:19: responder.environment.ONCALL_TOPIC_ARN: ${{ir-oncall.arm}}: a topic has no attribute 'arm' "
        "(use one of name, id, arn, topic_name)",
        f"{shown}:19: responder.environment.ISOLATION_VPC: ${{ghost.id}} names 'ghost', which is not declared in "
        "the environment (declared: app-a, app-sg, data, ir-oncall, miner, vpc)",
        f"{shown}:20: responder.rule.event_pattern.source: 'aws.guardduty' is not in a list (write [aws.guardduty])",
        f"{shown}:23: steps[1].within: '5 minutes' is not a duration (write 90s, 5m or 1h30m)",
        f"{shown}:24: steps[2].expect.instance: 'ir-oncall' is a topic, not an instance (name an instance: miner)",
    ]


def test_the_error_is_an_input_error_with_one_line_per_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert caught.value.exit_code == 2
    assert len(str(caught.value).splitlines()) == 9


def test_a_bad_duration_names_field_and_fix(tmp_path: Path) -> None:
    data = crypto_data()
    data["escalation"]["levels"][1]["after"] = 15
    data["responder"]["timeout"] = "a while"
    lines = problems_of_data(data, tmp_path)
    assert any(line.endswith("escalation.levels[1].after: 15 has no unit (write 90s, 5m or 1h30m)") for line in lines)
    assert any(line.endswith("responder.timeout: 'a while' is not a duration (write 90s, 5m or 1h30m)")
               for line in lines)
    assert len(lines) == 2


def test_a_dangling_reference_is_reported(tmp_path: Path) -> None:
    data = crypto_data()
    data["steps"][0]["expect"]["topic"] = "oncall"
    data["escalation"]["topic"] = "pagr"
    data["environment"]["instances"][0]["role"] = "missing-role"
    lines = problems_of_data(data, tmp_path)
    assert [line.split(": ", 1)[1] for line in lines] == [
        "environment.instances[0].role: role 'missing-role' is not declared in the environment "
        "(roles: batch-role, web-role)",
        "steps[0].expect.topic: topic 'oncall' is not declared in the environment (topics: ir-oncall, pager)",
        "escalation.topic: topic 'pagr' is not declared in the environment (topics: ir-oncall, pager)",
    ]


def test_a_finding_bound_to_the_wrong_kind_of_resource(tmp_path: Path) -> None:
    data = crypto_data()
    data["findings"][0]["resource"] = "deploy-user"
    lines = problems_of_data(data, tmp_path)
    assert [line.split(": ", 1)[1] for line in lines] == [
        "findings[0].resource: 'deploy-user' is a user, not an instance (name an instance: miner, neighbour)"]


def test_an_iam_finding_binds_to_a_user_or_a_role(tmp_path: Path) -> None:
    data = crypto_data()
    data["threat_purpose"] = "UnauthorizedAccess"
    data["finding_types"] = ["UnauthorizedAccess:IAMUser/MaliciousIPCaller"]
    data["findings"] = [{"type": "UnauthorizedAccess:IAMUser/MaliciousIPCaller", "resource": "deploy-user"}]
    path = tmp_path / "iam.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_scenario(path).findings[0].resource == "deploy-user"
    data["findings"][0]["resource"] = "app-assets"
    lines = problems_of_data(data, tmp_path)
    assert lines[0].split(": ", 1)[1] == ("findings[0].resource: 'app-assets' is a bucket, not a user or role "
                                          "(name a user or role: deploy-user; batch-role, web-role)")


def test_unknown_retired_and_unused_finding_types(tmp_path: Path) -> None:
    data = crypto_data()
    data["finding_types"] += ["CryptoCurrency:EC2/BitcoinTool.b!DNS", "Impact:S3/ObjectDelete.Unusual",
                              "CryptoCurrency:EC2/BitcoinTool.B"]
    lines = [line.split(": ", 1)[1] for line in problems_of_data(data, tmp_path)]
    assert lines == [
        "finding_types[1]: unknown finding type 'CryptoCurrency:EC2/BitcoinTool.b!DNS' "
        "(did you mean 'CryptoCurrency:EC2/BitcoinTool.B!DNS'?)",
        "finding_types[2]: finding type 'Impact:S3/ObjectDelete.Unusual' is retired "
        "(pick an active type (`simulate list types` shows them), or set allow_retired_types: true)",
        "finding_types[3]: no finding of type 'CryptoCurrency:EC2/BitcoinTool.B' is injected "
        "(add it under findings or remove it from finding_types)",
    ]


def test_a_finding_type_must_be_listed_and_its_severity_in_range(tmp_path: Path) -> None:
    data = crypto_data()
    data["findings"].append({"type": "CryptoCurrency:EC2/BitcoinTool.B", "resource": "miner", "severity": 2.0})
    lines = [line.split(": ", 1)[1] for line in problems_of_data(data, tmp_path)]
    assert lines == [
        "findings[1].type: 'CryptoCurrency:EC2/BitcoinTool.B' is not listed in finding_types "
        "(add it to finding_types)",
        "findings[1].severity: 2.0 is outside CryptoCurrency:EC2/BitcoinTool.B's severity range "
        "(GuardDuty rates it 7.0-8.9; omit severity to let the factory choose)",
    ]


def test_step_kinds_are_the_registered_ones_with_their_parameters(tmp_path: Path) -> None:
    data = crypto_data()
    data["steps"][0]["expect"] = {"kind": "ticket_opened", "queue": "ir"}
    data["steps"][1]["expect"] = {"kind": "instance_quarantined"}
    data["steps"][2]["expect"] = {"kind": "role_credentials_revoked", "instance": "neighbour", "user": "deploy-user"}
    data["steps"].append({"id": "page", "expect": {"kind": "escalation_paged", "level": 4}, "within": "1h"})
    data["steps"].append({"id": "page", "expect": {"kind": "escalation_paged", "level": 2}, "within": "1h"})
    lines = [line.split(": ", 1)[1] for line in problems_of_data(data, tmp_path)]
    assert lines[0].startswith("steps[0].expect.kind: unknown expectation kind 'ticket_opened' (use one of ")
    assert "instance_quarantined" in lines[0] and "escalation_paged" in lines[0]
    assert lines[1:] == [
        "steps[1].expect: instance_quarantined takes {instance}, not {nothing} "
        "(write {kind: instance_quarantined, instance: ...})",
        "steps[2].expect: role_credentials_revoked takes {instance} or {role}, not {instance, user} "
        "(write {kind: role_credentials_revoked, instance: ...})",
        "steps[5].expect.level: escalation level 4 is not in escalation.levels (use one of 1, 2, 3)",
        "steps[6].id: step id 'page' is already used by steps[5] (give each step its own id)",
    ]


def test_revoking_role_credentials_needs_an_instance_with_a_role(tmp_path: Path) -> None:
    data = crypto_data()
    del data["environment"]["instances"][0]["role"]
    lines = [line.split(": ", 1)[1] for line in problems_of_data(data, tmp_path)]
    assert lines == ["steps[2].expect.instance: instance 'miner' has no role, so it has no role credentials to "
                     "revoke (give the instance a role or drop this step)"]


def test_environment_consistency(tmp_path: Path) -> None:
    data = crypto_data()
    environment = data["environment"]
    environment["subnets"][1]["cidr"] = "10.30.2.0/24"
    environment["subnets"].append({"name": "app-c", "cidr": "10.20.1.128/25"})
    environment["roles"][1]["instance_profile"] = False
    environment["instances"][0]["volumes"].append({"device": "/dev/sdf", "size_gb": 5})
    environment["topics"].append({"name": "miner"})
    lines = [line.split(": ", 1)[1] for line in problems_of_data(data, tmp_path)]
    assert lines == [
        "environment.subnets[1].cidr: 10.30.2.0/24 is outside the VPC's 10.20.0.0/16 (pick a block inside "
        "10.20.0.0/16)",
        "environment.subnets[2].cidr: 10.20.1.128/25 overlaps subnet 'app-a' (10.20.1.0/24) (give each subnet its "
        "own block)",
        "environment.instances[0].volumes[1].device: device /dev/sdf is already used by volumes[0] "
        "(give each volume its own device)",
        "environment.instances[1].role: role 'batch-role' has no instance profile, so no instance can use it "
        "(set instance_profile: true on role 'batch-role')",
        f"environment.topics[2].name: name 'miner' is already used by the instance at line "
        f"{_line_of_first_instance(tmp_path)} (logical names are unique across the environment; rename one)",
    ]


def test_escalation_levels_are_numbered_and_ordered(tmp_path: Path) -> None:
    data = crypto_data()
    data["escalation"]["levels"] = [{"level": 1, "contact": "a", "after": "10m"},
                                    {"level": 3, "contact": "b", "after": "5m"}]
    lines = [line.split(": ", 1)[1] for line in problems_of_data(data, tmp_path)]
    assert lines == [
        "escalation.levels[1].level: level 3 follows level 1 (number the levels 1, 2, 3 in order; this one is 2)",
        "escalation.levels[1].after: 5m is earlier than the level before it "
        "(each level is paged no earlier than the one before)",
    ]


def test_field_shapes(tmp_path: Path) -> None:
    data = crypto_data()
    data["environment"]["vpc"]["cidr"] = "10.20.0.0/33"
    data["environment"]["instances"][0]["name"] = "Miner_1"
    data["environment"]["instances"][0]["tags"] = {"aws:autoscaling:groupName": "web"}
    data["environment"]["instances"][0]["volumes"][0]["device"] = "sdf"
    data["responder"]["handler"] = "responders.crypto"
    data["stepz"] = []
    del data["problem"]
    lines = [line.split(": ", 1)[1] for line in problems_of_data(data, tmp_path)]
    assert "problem: missing (add problem: what happened and why it matters)" in lines
    assert ("environment.vpc.cidr: '10.20.0.0/33' is not an IPv4 CIDR block (write it like 10.20.1.0/24)"
            in lines)
    assert ("environment.instances[0].name: 'Miner_1' is not a valid name (use lower-case letters, digits and "
            "hyphens, starting with a letter, at most 40 characters)") in lines
    assert ("environment.instances[0].tags['aws:autoscaling:groupName']: tag key 'aws:autoscaling:groupName' is "
            "reserved (keys starting with aws: or gdsim: belong to AWS and the harness)") in lines
    assert ("environment.instances[0].volumes[0].device: 'sdf' does not have the expected form "
            "(write /dev/sdb ... /dev/sdz)") in lines
    assert ("responder.handler: 'responders.crypto' does not have the expected form "
            "(write module:function or path/to/file.py:function)") in lines
    assert any(line.startswith("stepz: unknown field (did you mean steps?") for line in lines)


def test_yaml_syntax_errors_are_located(tmp_path: Path) -> None:
    lines = problems_of("id: x\nsteps: [1, 2\nurgency: high\n", tmp_path, "syntax.yaml")
    assert len(lines) == 1
    assert lines[0].startswith(f"{_shown(tmp_path / 'syntax.yaml')}:3: not valid YAML: ")


def test_a_document_that_is_not_a_mapping(tmp_path: Path) -> None:
    assert problems_of("- just\n- a list\n", tmp_path) == [
        f"{_shown(tmp_path / 'x.yaml')}:1: a scenario file is a mapping of fields (start with id: crypto)"]


def test_duplicate_keys_are_problems(tmp_path: Path) -> None:
    text = CRYPTO.read_text().replace("urgency: high\n", "urgency: high\nurgency: low\n")
    lines = problems_of(text, tmp_path)
    assert [line.split(": ", 1)[1] for line in lines] == ["urgency: key 'urgency' appears again (first at line 6) "
                                                          "(keep one)"]


def test_parse_scenario_validates_text_directly(tmp_path: Path) -> None:
    scenario = parse_scenario(CRYPTO.read_text(), tmp_path / "inline.yaml")
    assert scenario.source_path == (tmp_path / "inline.yaml").resolve()


def _shown(path: Path) -> str:
    from simulator.scenario.issues import display_path

    return display_path(path)


def _line_of_first_instance(tmp_path: Path) -> int:
    text = (tmp_path / "x.yaml").read_text().splitlines()
    return next(number for number, line in enumerate(text, start=1) if "name: miner" in line)


def test_the_cli_prints_every_problem_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from simulator.cli import main

    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    assert main(["--scenario", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"simulate: error: {_shown(path)}:5: urgency: ")
    assert len(err) == 9
    assert all(line.startswith(_shown(path) + ":") for line in err[1:])
