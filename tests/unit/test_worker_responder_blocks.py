"""The responders' building blocks that need no AWS: event checks, retry policy, protection tags."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from hypothesis import given, settings
from hypothesis import strategies as st

from responders.lib import retry
from responders.lib.credentials import profile_name
from responders.lib.events import EventRejected, check_scope, finding_id_of, finding_of, instance_of
from responders.lib.instance import protection
from responders.lib.notify import subject_line
from responders.lib.settings import Config, ResponderConfigError


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "SomeOperation")


class Flaky:
    """Fails with the given errors, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {"ok": kwargs}


@pytest.fixture(autouse=True)
def fast_runbook_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GDSIM_TIME_SCALE", "100000")


def test_throttling_and_transient_faults_are_retried() -> None:
    flaky = Flaky(client_error("Throttling"), client_error("RequestLimitExceeded", 503),
                  EndpointConnectionError(endpoint_url="http://gateway"), client_error("InternalError", 500))

    assert retry.call_with_retry(flaky, InstanceIds=["i-1"]) == {"ok": {"InstanceIds": ["i-1"]}}
    assert flaky.calls == 5


def test_other_errors_surface_at_once_and_persistent_throttling_eventually() -> None:
    denied = Flaky(client_error("UnauthorizedOperation", 403))
    with pytest.raises(ClientError, match="UnauthorizedOperation"):
        retry.call_with_retry(denied)
    assert denied.calls == 1

    throttled = Flaky(*[client_error("ThrottlingException")] * 10)
    with pytest.raises(ClientError, match="ThrottlingException"):
        retry.call_with_retry(throttled, attempts=4)
    assert throttled.calls == 4


def test_a_create_whose_answer_was_lost_is_not_repeated() -> None:
    created: list[str] = []

    def create_snapshot(**_params: Any) -> str:
        created.append("snap-1")  # it happened...
        raise EndpointConnectionError(endpoint_url="http://gateway")  # ...but the answer never came

    result = retry.call_once(create_snapshot, lambda: created[0] if created else None, VolumeId="vol-1")

    assert result == "snap-1"
    assert created == ["snap-1"]


def test_a_create_that_did_not_happen_is_tried_again() -> None:
    flaky = Flaky(client_error("RequestLimitExceeded", 503))

    assert retry.call_once(flaky, lambda: None, VolumeId="vol-1") == {"ok": {"VolumeId": "vol-1"}}
    assert flaky.calls == 2


def test_a_retrying_client_retries_api_methods_only() -> None:
    class FakeClient:
        meta = "meta"

        def __init__(self) -> None:
            self.describe_things = Flaky(client_error("Throttling"))

    wrapped = retry.RetryingClient(FakeClient())

    assert wrapped.describe_things(Name="x") == {"ok": {"Name": "x"}}
    assert wrapped.raw.describe_things.calls == 2
    assert wrapped.meta == "meta"


def test_runbook_time_scale_falls_back_to_one_when_unusable(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, expected in (("60", 60.0), ("0", 1.0), ("-3", 1.0), ("fast", 1.0)):
        monkeypatch.setenv("GDSIM_TIME_SCALE", value)
        assert retry.time_scale() == expected


GOOD = {
    "detail-type": "GuardDuty Finding",
    "detail": {"id": "5ac1fbbc3c4a0e2ef0f4b9e1d2c3a4b5", "accountId": "123456789012", "region": "us-east-1",
               "resource": {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-0123456789abcdef0"}}},
}


def test_a_well_formed_finding_passes_the_checks() -> None:
    finding = finding_of(GOOD)
    finding_id = finding_id_of(finding)
    check_scope(finding, finding_id, account_id="123456789012", region="us-east-1")

    assert instance_of(finding, finding_id)["instanceId"] == "i-0123456789abcdef0"


@settings(max_examples=200, derandomize=True)
@given(st.recursive(st.none() | st.booleans() | st.floats() | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["detail", "detail-type", "id", "resource", "resourceType",
                                         "instanceDetails", "instanceId", "accountId", "region"]) | st.text(max_size=5),
                        inner, max_size=5),
                    max_leaves=20))
def test_the_checks_reject_anything_else_with_a_short_reason_and_nothing_worse(event: Any) -> None:
    try:
        finding = finding_of(event)
        finding_id = finding_id_of(finding)
        check_scope(finding, finding_id, account_id="123456789012", region="us-east-1")
        instance_of(finding, finding_id)
    except EventRejected as rejected:
        assert 0 < len(rejected.reason) < 200


def test_reasons_quote_hostile_values_cut_short() -> None:
    event = {"detail": {**GOOD["detail"], "id": "x" * 5000}}

    with pytest.raises(EventRejected) as caught:
        finding_id_of(finding_of(event))

    assert len(caught.value.reason) < 100
    assert "..." in caught.value.reason


@pytest.mark.parametrize("tags, spec, protected", [
    ([{"Key": "gdsim:protected", "Value": "true"}], "gdsim:protected", True),
    ([{"Key": "gdsim:protected", "Value": "false"}], "gdsim:protected", False),
    ([{"Key": "env", "Value": "prod"}], "env=prod", True),
    ([{"Key": "env", "Value": "dev"}], "env=prod", False),
    ([], "gdsim:protected", False),
])
def test_protection_is_read_from_the_configured_tag(tags: list[dict[str, str]], spec: str, protected: bool) -> None:
    assert bool(protection({"Tags": tags}, spec)) is protected


def test_profile_names_come_only_from_instance_profile_arns() -> None:
    assert profile_name("arn:aws:iam::123456789012:instance-profile/miner-profile") == "miner-profile"
    assert profile_name("arn:aws:iam::123456789012:instance-profile/team/a/miner") == "miner"
    assert profile_name("arn:aws:iam::123456789012:role/miner-role") is None
    assert profile_name("GeneratedFindingInstanceProfileArn") is None


def test_the_crypto_responder_refuses_to_run_without_its_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    from responders import crypto

    monkeypatch.delenv("ONCALL_TOPIC_ARN", raising=False)
    monkeypatch.setenv("PAGER_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:pager")

    with pytest.raises(ResponderConfigError, match="set ONCALL_TOPIC_ARN"):
        crypto.handler(GOOD, None)


def test_the_pager_topic_and_contact_come_from_the_scenario_escalation_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = {"topic_arn": "arn:aws:sns:us-east-1:123456789012:pager",
            "levels": [{"level": 2, "contact": "ir-lead", "after_seconds": 900},
                       {"level": 1, "contact": "ir-oncall-primary", "after_seconds": 0}]}
    monkeypatch.setenv("ONCALL_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:ir-oncall")
    monkeypatch.delenv("PAGER_TOPIC_ARN", raising=False)
    monkeypatch.delenv("ESCALATION_CONTACT", raising=False)
    monkeypatch.setenv("ESCALATION", json.dumps(path))

    config = Config.from_env()

    assert (config.pager_topic_arn, config.escalation_contact) == (path["topic_arn"], "ir-oncall-primary")
    monkeypatch.setenv("ESCALATION", "{not json")
    with pytest.raises(ResponderConfigError, match="ESCALATION is not JSON"):
        Config.from_env()


def test_subjects_fit_sns_rules() -> None:
    line = subject_line("GuardDuty finding\non i-1 \u2603 " + "x" * 300)

    assert len(line) == 100
    assert "\n" not in line and all(32 <= ord(ch) < 127 for ch in line)
