"""The chaos fault hook: seeded decisions per call sequence, filters, and faults an SDK reads as AWS's own."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser

from simulator.chaos import ChaosFaults, FaultRule, parse_profile
from simulator.gateway import Fault, RequestInfo
from simulator.provision.environment import ProvisionedEnvironment

RESPONDER, HARNESS = "AKIARESPONDER", "AKIAHARNESS"
_BOTOCORE = botocore.session.get_session()


def info(service: str = "ec2", operation: str = "StopInstances", *, protocol: str = "ec2",
         caller: str = RESPONDER, mutating: bool = True, resource_ids: Sequence[str] = ()) -> RequestInfo:
    return RequestInfo(service, operation, "us-east-1", caller, protocol, {}, tuple(resource_ids), mutating,
                       "POST", "/", {})


def rules(*specs: dict[str, Any]) -> list[FaultRule]:
    return [FaultRule.model_validate(spec) for spec in specs]


def label_of(caller: str) -> str | None:
    return {RESPONDER: "responder", HARNESS: "harness"}.get(caller)


def hook(*specs: dict[str, Any], seed: int = 1, time_scale: float = 1.0, env: Any = None) -> ChaosFaults:
    return ChaosFaults(rules(*specs), seed=seed, time_scale=time_scale, env=env, label_of=label_of)


def sdk_error(service: str, operation: str, fault: Fault) -> tuple[str, int]:
    """The error code and status botocore reports for the fault's canned response."""
    model = _BOTOCORE.get_service_model(service)
    parser = create_parser(model.metadata["protocol"])
    headers = HeadersDict(dict(fault.headers))
    parsed = parser.parse({"status_code": fault.status, "headers": headers, "body": fault.body},
                          model.operation_model(operation).output_shape)
    return parsed["Error"]["Code"], parsed["ResponseMetadata"]["HTTPStatusCode"]


def decisions(chaos: ChaosFaults, calls: Sequence[RequestInfo]) -> dict[str, list[bool]]:
    by_operation: dict[str, list[bool]] = {}
    for call in calls:
        by_operation.setdefault(call.operation, []).append(chaos(call) is not None)
    return by_operation


# ---------------------------------------------------------------- determinism


def test_the_same_seed_gives_the_same_faults_whatever_the_interleaving() -> None:
    spec = {"kind": "throttle", "probability": 0.3}
    a = [info(operation="CreateSnapshot") for _ in range(30)]
    b = [info(operation="StopInstances") for _ in range(30)]
    shuffled = a + b
    random.Random(5).shuffle(shuffled)
    in_order = decisions(hook(spec, seed=11), a + b)
    interleaved = decisions(hook(spec, seed=11), shuffled)
    assert in_order == interleaved
    assert any(in_order["CreateSnapshot"]) and not all(in_order["CreateSnapshot"])
    assert decisions(hook(spec, seed=12), a + b) != in_order


def test_probability_is_the_share_of_calls_faulted() -> None:
    chaos = hook({"kind": "error", "probability": 0.25})
    faulted = sum(chaos(info()) is not None for _ in range(4000))
    assert 0.22 < faulted / 4000 < 0.28


def test_after_lets_calls_through_and_times_caps_faults_per_operation() -> None:
    chaos = hook({"kind": "throttle", "after": 2, "times": 2})
    assert [chaos(info()) is not None for _ in range(6)] == [False, False, True, True, False, False]
    # Counted per operation: another operation gets its own allowance.
    assert [chaos(info(operation="CreateTags")) is not None for _ in range(4)] == [False, False, True, True]
    assert chaos.signature() == [("ec2", "StopInstances", 3, "throttle"), ("ec2", "StopInstances", 4, "throttle"),
                                 ("ec2", "CreateTags", 3, "throttle"), ("ec2", "CreateTags", 4, "throttle")]
    assert chaos.counts() == {"throttle": 4}


# ---------------------------------------------------------------- what a rule matches


def test_service_operation_and_mutating_filters_with_globs() -> None:
    chaos = hook({"kind": "reset", "service": ["ec2", "iam"], "operation": "Create*", "mutating": True})
    assert chaos(info(operation="CreateSnapshot")) is not None
    assert chaos(info("iam", "CreateAccessKey", protocol="query")) is not None
    assert chaos(info(operation="StopInstances")) is None
    assert chaos(info("sns", "CreateTopic", protocol="query")) is None
    assert chaos(info(operation="CreateLike", mutating=False)) is None


def test_only_the_responder_is_faulted_unless_the_rule_says_any() -> None:
    default = hook({"kind": "throttle"})
    assert default(info(caller=HARNESS)) is None
    assert default(info(caller="AKIAUNKNOWN")) is None
    assert default(info()) is not None
    everyone = hook({"kind": "throttle", "callers": "any"})
    assert everyone(info(caller=HARNESS)) is not None


def test_resources_are_logical_names_or_id_patterns() -> None:
    env = ProvisionedEnvironment(run_id="r", account_id="123456789012", region="us-east-1", resources={
        "miner": {"kind": "instance", "name": "miner", "id": "i-miner", "network_interfaces": [{"id": "eni-m"}],
                  "volumes": [{"id": "vol-m", "device": "/dev/sdf"}]},
        "neighbour": {"kind": "instance", "name": "neighbour", "id": "i-other"},
    })
    chaos = hook({"kind": "deny", "resource": "miner"}, {"kind": "throttle", "resource": "snap-*"}, env=env)
    assert chaos(info(resource_ids=["i-miner"])).status == 403
    assert chaos(info(operation="CreateSnapshot", resource_ids=["vol-m"])) is not None
    assert chaos(info(resource_ids=["i-other"])) is None
    assert chaos(info(operation="CopySnapshot", resource_ids=["snap-1"])).name == "throttle"


# ---------------------------------------------------------------- what a fault looks like


@pytest.mark.parametrize(("service", "operation", "protocol", "code", "status"), [
    ("ec2", "ModifyInstanceAttribute", "ec2", "RequestLimitExceeded", 503),
    ("iam", "PutRolePolicy", "query", "Throttling", 400),
    ("sns", "Publish", "query", "Throttling", 400),
    ("sqs", "SendMessage", "json", "RequestThrottled", 403),
    ("events", "PutEvents", "json", "ThrottlingException", 400),
])
def test_throttling_is_each_services_own_error(service: str, operation: str, protocol: str, code: str,
                                                 status: int) -> None:
    chaos = hook({"kind": "throttle"})
    fault = chaos(info(service, operation, protocol=protocol))
    assert sdk_error(service, operation, fault) == (code, status)
    assert chaos.injected[0].code == code


@pytest.mark.parametrize(("service", "operation", "protocol", "code", "status"), [
    ("ec2", "CreateSnapshot", "ec2", "UnauthorizedOperation", 403),
    ("iam", "PutRolePolicy", "query", "AccessDenied", 403),
    ("sns", "Publish", "query", "AuthorizationError", 403),
    ("events", "PutEvents", "json", "AccessDeniedException", 400),
])
def test_access_denied_for_one_action(service: str, operation: str, protocol: str, code: str, status: int) -> None:
    chaos = hook({"kind": "deny", "operation": operation})
    assert sdk_error(service, operation, chaos(info(service, operation, protocol=protocol))) == (code, status)
    assert chaos(info(service, "Other", protocol=protocol)) is None


@pytest.mark.parametrize(("service", "protocol", "status", "code"), [
    ("ec2", "ec2", 500, "InternalError"),
    ("ec2", "ec2", 503, "Unavailable"),
    ("iam", "query", 500, "ServiceFailure"),
    ("sns", "query", 500, "InternalError"),
    ("sts", "query", 503, "ServiceUnavailable"),
    ("events", "json", 500, "InternalFailure"),
])
def test_server_errors_carry_the_services_code(service: str, protocol: str, status: int, code: str) -> None:
    operation = {"ec2": "StopInstances", "iam": "PutRolePolicy", "sns": "Publish", "sts": "GetCallerIdentity",
                 "events": "PutEvents"}[service]
    fault = hook({"kind": "error", "status": status})(info(service, operation, protocol=protocol))
    assert sdk_error(service, operation, fault) == (code, status)


def test_an_error_code_can_be_chosen() -> None:
    fault = hook({"kind": "error", "status": 503, "code": "ServiceUnavailable"})(info())
    assert sdk_error("ec2", "StopInstances", fault) == ("ServiceUnavailable", 503)


def test_latency_is_runbook_time_and_adds_to_the_fault_that_answers() -> None:
    chaos = hook({"kind": "latency", "name": "slow", "delay": "2m", "jitter": "1m"},
                 {"kind": "throttle", "operation": "CreateSnapshot"}, time_scale=60)
    slowed = chaos(info())
    assert slowed.status is None and not slowed.reset and 2.0 <= slowed.delay <= 3.0
    both = chaos(info(operation="CreateSnapshot"))
    assert both.name == "slow+throttle" and both.status == 503 and 2.0 <= both.delay <= 3.0
    assert [fault.kinds for fault in chaos.injected] == [("latency",), ("latency", "throttle")]


def test_the_first_answering_rule_wins() -> None:
    chaos = hook({"kind": "reset", "operation": "Publish"}, {"kind": "throttle"})
    assert chaos(info("sns", "Publish", protocol="query")).reset
    assert chaos(info()).status == 503


def test_a_profile_builds_its_hook_from_a_seeded_generator() -> None:
    profile = parse_profile("name: p\ndescription: d\nfaults:\n  - {kind: throttle, probability: 0.5}\n",
                            Path("p.yaml"))
    calls = [info(operation=f"Op{i % 3}") for i in range(60)]
    first = profile.fault_hook(random.Random(3), label_of=label_of)
    again = profile.fault_hook(random.Random(3), label_of=label_of)
    assert decisions(first, calls) == decisions(again, calls)
    assert first.signature() == again.signature() and first.signature()
