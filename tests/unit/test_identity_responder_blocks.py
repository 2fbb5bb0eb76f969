"""The identity responders' building blocks that need no AWS: reading the caller out of a finding,
refusing malformed findings, bounded facts and safe logs, configuration from the environment."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from responders.lib.events import EventRejected
from responders.lib.facts import api_call_facts
from responders.lib.ledger import record_name
from responders.lib.principal import caller_of, check_finding_type, type_allowed
from responders.lib.runbook import safe_text
from responders.lib.sessions import revocation_document
from responders.lib.settings import ResponderConfigError
from responders.lib.shape import EVENTBRIDGE_LIMIT, check_event_size, check_wellformed
from simulator.findings import generate_finding, wrap_in_envelope

USER = {"kind": "user", "name": "alice", "id": "AIDAEXAMPLEALICE0001", "user_name": "run-alice",
        "arn": "arn:aws:iam::123456789012:user/run-alice", "access_keys": [{"id": "AKIAEXAMPLEALICE0001"}]}
INSTANCE = {"kind": "instance", "name": "web", "id": "i-0123456789abcdef0",
            "instance_profile": {"arn": "arn:aws:iam::123456789012:instance-profile/run-web-role", "id": "AIPA1",
                                 "name": "run-web-role", "role_name": "run-web-role",
                                 "role_arn": "arn:aws:iam::123456789012:role/run-web-role"}}


def finding(type_name: str = "UnauthorizedAccess:IAMUser/MaliciousIPCaller", resource: dict | None = None
            ) -> dict[str, Any]:
    return generate_finding(type_name, rng=random.Random(5), resource=resource or USER)


def rejected(call: Any, *args: Any) -> str:
    with pytest.raises(EventRejected) as refused:
        call(*args)
    return refused.value.reason


def test_the_caller_of_a_user_finding_is_the_user_and_its_key() -> None:
    caller = caller_of(finding(), "f1")
    assert (caller.kind, caller.name, caller.access_key_id, caller.temporary_key) == (
        "user", "run-alice", "AKIAEXAMPLEALICE0001", False)
    assert caller.instance_id is None


def test_the_caller_of_instance_credentials_is_the_role_session_named_after_the_instance() -> None:
    stolen = finding("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", INSTANCE)
    caller = caller_of(stolen, "f1")
    assert (caller.kind, caller.name, caller.instance_id) == ("role", "run-web-role", "i-0123456789abcdef0")
    assert caller.temporary_key


def test_the_root_caller_has_no_name_to_act_on() -> None:
    root = generate_finding("Policy:IAMUser/RootCredentialUsage", rng=random.Random(5))
    assert caller_of(root, "f1").kind == "root"


@pytest.mark.parametrize("change, words", [
    (lambda d: d.update(userName="\u0430dmin"), "is not an IAM user name"),  # a Cyrillic look-alike
    (lambda d: d.update(userName="alice; rm -rf /"), "is not an IAM user name"),
    (lambda d: d.update(accessKeyId="AKIA' OR '1'='1"), "is not an access key id"),
    (lambda d: d.update(userType="FederatedUser"), "is not one of IAMUser, AssumedRole, Root"),
    (lambda d: d.update(userType="AssumedRole", principalId="AROAEXAMPLE"), "names no role session"),
])
def test_a_caller_that_cannot_be_trusted_is_refused(change: Any, words: str) -> None:
    hostile = finding()
    change(hostile["resource"]["accessKeyDetails"])
    assert words in rejected(caller_of, hostile, "f1")


def test_a_finding_about_another_kind_of_resource_names_no_caller() -> None:
    hostile = finding()
    hostile["resource"] = {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-0123456789abcdef0"}}
    assert "is not 'AccessKey'" in rejected(caller_of, hostile, "f1")


def test_types_are_matched_exactly_or_by_prefix_and_must_be_well_formed() -> None:
    assert type_allowed("Recon:IAMUser/MaliciousIPCaller", ("Recon:IAMUser/*",))
    assert not type_allowed("Recon:EC2/Portscan", ("Recon:IAMUser/*",))
    assert type_allowed("Impact:IAMUser/AnomalousBehavior", ())
    assert not type_allowed("UnauthorizedAccess:EC2/SSHBruteForce ", ())
    assert not type_allowed("Trojan:EC2/" + "A" * 80 + "; ls", ())
    assert "is not one this runbook handles" in rejected(
        check_finding_type, {"type": "Backdoor:EC2/NotAThing.Z"}, "f1", ("Recon:IAMUser/*",))


def test_a_well_formed_finding_passes_and_each_defect_is_refused() -> None:
    good = finding()
    check_wellformed(good, good["id"])
    for member in ("accountId", "arn", "createdAt", "id", "region", "schemaVersion", "type", "updatedAt"):
        broken = copy.deepcopy(good)
        del broken[member]
        assert "is missing or not text" in rejected(check_wellformed, broken, good["id"])
    for change, words in [(lambda f: f.update(severity=0.0), "not on GuardDuty's 1-10 scale"),
                          (lambda f: f.update(severity="8"), "not on GuardDuty's 1-10 scale"),
                          (lambda f: f.update(resource=[f["resource"]]), "is not an object"),
                          (lambda f: f.update(updatedAt="2024-13-45T99:99:99Z"), "is not an ISO-8601 time"),
                          (lambda f: f.update(createdAt="1714561200000"), "is not an ISO-8601 time"),
                          (lambda f: f.update(arn=f["arn"].rsplit("/", 1)[0] + "/" + "0" * 32),
                           "does not name this finding"),
                          (lambda f: f.update(accountId="999999999999"), "does not name this finding")]:
        broken = copy.deepcopy(good)
        change(broken)
        assert words in rejected(check_wellformed, broken, good["id"])


def test_an_event_larger_than_eventbridge_delivers_is_refused() -> None:
    event = wrap_in_envelope(finding())
    check_event_size(event)
    event["detail"]["description"] = "A" * EVENTBRIDGE_LIMIT
    assert "over EventBridge's" in rejected(check_event_size, event)


def test_facts_are_bounded_strings() -> None:
    hostile = finding()
    call = hostile["service"]["action"]["awsApiCallAction"]
    call["userAgent"] = "x" * 10_000
    call["api"] = {"nested": "object"}
    facts = api_call_facts(hostile)
    assert len(facts["user_agent"]) == 200 and "api" not in facts
    assert facts["remote_ip"] == call["remoteIpDetails"]["ipAddressV4"]
    assert api_call_facts({"service": "guardduty"}) == {}


def test_log_lines_escape_control_and_direction_characters() -> None:
    assert safe_text("ok\r\n2024 INFO all clear") == "ok\\r\\n2024 INFO all clear"
    assert safe_text("\u202eevil.exe\u202c") == "\\u202eevil.exe\\u202c"
    assert safe_text("\x1b[2Jclear") == "\\x1b[2Jclear"
    assert len(safe_text("a" * 5000)) == 2000


def test_the_revocation_policy_denies_everything_to_older_tokens() -> None:
    document = revocation_document("2024-05-01T10:00:00Z")
    [statement] = document["Statement"]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Deny", "*", "*")
    assert statement["Condition"] == {"DateLessThan": {"aws:TokenIssueTime": "2024-05-01T10:00:00Z"}}
    json.dumps(document)


def test_ledger_records_are_valid_parameter_names() -> None:
    assert record_name("abc123", "notified") == "/gdsim/findings/abc123/notified"
    assert record_name("a:b/c", "x y") == "/gdsim/findings/a_b_c/x_y"


@pytest.mark.parametrize("env, words", [
    ({"ACTIONS": "deactivate_key,delete_user"}, "ACTIONS: unknown delete_user"),
    ({"CONTAIN_FROM_SEVERITY": "high"}, "CONTAIN_FROM_SEVERITY='high' is not a number"),
    ({"ACTIVITY_HOURS": "0"}, "ACTIVITY_HOURS must be more than 0"),
])
def test_a_wrong_runbook_configuration_is_refused(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                  words: str) -> None:
    from responders.iam_user import Settings

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ResponderConfigError, match=words):
        Settings.from_env()


def test_the_default_runbook_contains_with_every_action(monkeypatch: pytest.MonkeyPatch) -> None:
    from responders.iam_user import ACTIONS, Settings

    for key in ("ACTIONS", "FINDING_TYPES", "CONTAIN_FROM_SEVERITY", "FOLLOW_UP", "ACTIVITY_HOURS"):
        monkeypatch.delenv(key, raising=False)
    settings = Settings.from_env()
    assert (settings.actions, settings.finding_types, settings.contain_from_severity) == (ACTIONS, (), 4.0)
    monkeypatch.setenv("ACTIONS", "")
    assert Settings.from_env().actions == ()
