"""${name.attribute} references: checked against the environment on load, resolved after provisioning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from simulator import paths
from simulator.errors import InputError
from simulator.provision.environment import ProvisionedEnvironment
from simulator.scenario import ScenarioError, load_scenario


def with_environment(tmp_path: Path, values: dict[str, str]) -> list[str]:
    data = yaml.safe_load((paths.SCENARIOS_DIR / "crypto.yaml").read_text())
    data["responder"]["environment"] = values
    path = tmp_path / "refs.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        load_scenario(path)
    except ScenarioError as exc:
        return [line.split(": ", 1)[1] for line in exc.lines]
    return []


def test_valid_references_load(tmp_path: Path) -> None:
    assert with_environment(tmp_path, {
        "A": "${miner.id}", "B": "${miner.instance_profile.role_arn}", "C": "${web-role.instance_profile.arn}",
        "D": "prefix-${run_id}-${region}-${account_id}", "E": "${escalation}", "F": "${sandbox-vpc.cidr}",
        "G": "${app-assets.bucket_name}", "H": "plain text", "I": "${ web-sg.id }",
    }) == []


def test_bad_references_are_each_reported(tmp_path: Path) -> None:
    assert with_environment(tmp_path, {
        "A": "${miner.instance_profile}", "B": "${miner.instance_profile.colour}", "C": "${miner.id.more}",
        "D": "${pager}", "E": "${pager.arn", "F": "${Pager.arn}",
    }) == [
        "responder.environment.A: ${miner.instance_profile} is a mapping, not text "
        "(use one of instance_profile.arn, instance_profile.id, instance_profile.name, "
        "instance_profile.role_name, instance_profile.role_arn)",
        "responder.environment.B: ${miner.instance_profile.colour} goes deeper than miner.instance_profile allows "
        "(use instance_profile.arn, instance_profile.id, instance_profile.name, instance_profile.role_name, "
        "instance_profile.role_arn)",
        "responder.environment.C: ${miner.id.more} goes deeper than miner.id allows (use ${miner.id})",
        "responder.environment.D: ${pager} is not a reference "
        "(write ${name.attribute} or one of ${run_id}, ${account_id}, ${region}, ${escalation})",
        "responder.environment.E: '${pager.arn' has an unclosed ${ (write ${name.attribute})",
        "responder.environment.F: ${Pager.arn} is not a reference "
        "(write ${name.attribute} or one of ${run_id}, ${account_id}, ${region}, ${escalation})",
    ]


def environment() -> ProvisionedEnvironment:
    profile = {"arn": "arn:aws:iam::123456789012:instance-profile/p", "id": "AIPA1", "name": "p",
               "role_name": "r", "role_arn": "arn:aws:iam::123456789012:role/r"}
    env = ProvisionedEnvironment(run_id="gdsim-r1", account_id="123456789012", region="eu-west-1", resources={
        "miner": {"kind": "instance", "name": "miner", "id": "i-0abc", "arn": "arn:aws:ec2:eu-west-1:1:instance/i-0abc",
                  "instance_profile": profile, "network_interfaces": [{"id": "eni-1"}, {"id": "eni-2"}],
                  "volumes": [{"id": "vol-1", "device": "/dev/xvda"}], "elastic_ip": None, "public_ip": None},
        "pager": {"kind": "topic", "name": "pager", "id": "arn:aws:sns:eu-west-1:1:pager",
                  "arn": "arn:aws:sns:eu-west-1:1:pager", "topic_name": "gdsim-r1-pager"},
        "alice": {"kind": "user", "name": "alice", "id": "AIDA1", "arn": "arn:aws:iam::1:user/alice",
                  "user_name": "gdsim-r1-alice", "access_keys": [{"id": "AKIA1"}, {"id": "AKIA2"}]},
        "web-role": {"kind": "role", "name": "web-role", "id": "AROA1", "arn": "arn:aws:iam::1:role/r",
                     "role_name": "r", "instance_profile": profile},
    }, bystander_names=frozenset({"alice"}))
    env.escalation = {"topic_arn": "arn:aws:sns:eu-west-1:1:pager",
                      "levels": [{"level": 1, "contact": "oncall", "after_seconds": 0.0}]}
    return env


def test_resolve_substitutes_descriptors_and_builtins() -> None:
    env = environment()
    assert env.resolve("${miner.id}") == "i-0abc"
    assert env.resolve("${pager.arn}|${miner.instance_profile.role_arn}") == (
        "arn:aws:sns:eu-west-1:1:pager|arn:aws:iam::123456789012:role/r")
    assert env.resolve("${run_id}/${region}/${account_id}") == "gdsim-r1/eu-west-1/123456789012"
    assert json.loads(env.resolve("${escalation}"))["levels"][0]["contact"] == "oncall"
    assert env.resolve("no references") == "no references"


@pytest.mark.parametrize("text", ["${ghost.id}", "${miner.public_ip}", "${miner.instance_profile}", "${miner}"])
def test_resolve_refuses_what_has_no_text_value(text: str) -> None:
    with pytest.raises(InputError, match="cannot resolve"):
        environment().resolve(text)


def test_ids_of_covers_everything_a_resource_owns() -> None:
    env = environment()
    assert env.ids_of("miner") == {"i-0abc", "arn:aws:ec2:eu-west-1:1:instance/i-0abc", "eni-1", "eni-2", "vol-1"}
    assert env.ids_of("alice") == {"AIDA1", "arn:aws:iam::1:user/alice", "gdsim-r1-alice", "AKIA1", "AKIA2"}
    assert env.ids_of("web-role") == {"AROA1", "arn:aws:iam::1:role/r", "r", "AIPA1", "p",
                                      "arn:aws:iam::123456789012:instance-profile/p"}
    assert env.owner_of("eni-2") == "miner"
    assert env.owner_of("AKIA2") == "alice"
    assert env.owner_of("i-other") is None
    assert env.bystander_names == {"alice"}


def test_references_in_policies_are_checked(tmp_path: Path) -> None:
    data = yaml.safe_load((paths.SCENARIOS_DIR / "crypto.yaml").read_text())
    data["environment"]["buckets"][0]["policy"] = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "${web-role.arn}"}, "Action": "s3:GetObject",
         "Resource": ["${app-assets.arn}/*", "${assets.arn}/*"]}]}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert [line.split(": ", 1)[1] for line in caught.value.lines] == [
        "environment.buckets[0].policy.Statement[0].Resource[1]: ${assets.arn} names 'assets', which is not "
        "declared in the environment (declared: app-a, app-assets, app-b, batch-role, deploy-user, ir-oncall, "
        "miner, neighbour, pager, sandbox-vpc, web-role, web-sg)"]
