"""A chaos profile's fault hook on a real gateway in front of a real moto server: boto3 sees AWS's own errors,
the journal names every fault, and only the responder's calls are touched."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from simulator.chaos import ChaosFaults, parse_profile
from simulator.gateway import Gateway, Journal, JournalEntry
from simulator.targets.base import Credentials, Sandbox
from simulator.targets.moto import MotoTarget

pytestmark = pytest.mark.integration

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with MotoTarget(load_managed_policies=False) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def gateway(sandbox: Sandbox) -> Iterator[Gateway]:
    with Gateway(sandbox.endpoint_url or "", Journal(), region=sandbox.region,
                 account_id=sandbox.account_id) as gateway:
        gateway.label_caller(sandbox.credentials.access_key_id, "harness")
        yield gateway


@pytest.fixture(scope="module")
def responder(sandbox: Sandbox, gateway: Gateway) -> Credentials:
    iam = sandbox.client("iam")
    iam.create_user(UserName="chaos-responder")
    key = iam.create_access_key(UserName="chaos-responder")["AccessKey"]
    gateway.label_caller(key["AccessKeyId"], "responder")
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


@pytest.fixture(scope="module")
def instances(sandbox: Sandbox) -> list[str]:
    ec2 = sandbox.client("ec2")
    reservation = ec2.run_instances(ImageId="ami-12345678", MinCount=2, MaxCount=2, InstanceType="t3.micro")
    return [instance["InstanceId"] for instance in reservation["Instances"]]


@pytest.fixture(autouse=True)
def no_faults(gateway: Gateway) -> Iterator[None]:
    yield
    gateway.fault_hook = None


def client(sandbox: Sandbox, gateway: Gateway, service: str, credentials: Credentials | None) -> Any:
    return sandbox.session(credentials).client(service, endpoint_url=gateway.url, config=NO_RETRIES)


def install(gateway: Gateway, faults: str, *, seed: int = 1, env: Any = None) -> ChaosFaults:
    profile = parse_profile(f"name: t\ndescription: test\nfaults:\n{faults}", Path("t.yaml"))
    hook = profile.fault_hook(random.Random(seed), time_scale=1.0, env=env, label_of=gateway.journal.label_of)
    gateway.fault_hook = hook
    return hook


def last(gateway: Gateway, operation: str) -> JournalEntry:
    return [entry for entry in gateway.journal.entries() if entry.operation == operation][-1]


def error_of(call: Any, **params: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_throttled_calls_get_each_services_own_error_and_the_journal_names_them(
        sandbox: Sandbox, gateway: Gateway, responder: Credentials, instances: list[str]) -> None:
    install(gateway, "  - {kind: throttle, times: 1}\n")
    ec2, iam, sns = (client(sandbox, gateway, service, responder) for service in ("ec2", "iam", "sns"))
    assert error_of(ec2.describe_instances, InstanceIds=instances[:1]) == ("RequestLimitExceeded", 503)
    assert error_of(iam.list_users) == ("Throttling", 400)
    assert error_of(sns.list_topics) == ("Throttling", 400)
    entry = last(gateway, "DescribeInstances")
    assert (entry.fault, entry.error_code, entry.status) == ("throttle", "RequestLimitExceeded", 503)
    # Once per operation: the next call goes through to the sandbox.
    assert ec2.describe_instances(InstanceIds=instances[:1])["Reservations"]
    assert last(gateway, "DescribeInstances").fault is None


def test_access_denied_for_one_action_leaves_the_others_alone(
        sandbox: Sandbox, gateway: Gateway, responder: Credentials, instances: list[str]) -> None:
    install(gateway, "  - {kind: deny, service: ec2, operation: StopInstances}\n")
    ec2 = client(sandbox, gateway, "ec2", responder)
    assert error_of(ec2.stop_instances, InstanceIds=instances[:1]) == ("UnauthorizedOperation", 403)
    assert ec2.describe_instances(InstanceIds=instances[:1])["Reservations"][0]["Instances"][0]["State"]["Name"] \
        == "running"  # the denied call never reached the sandbox


def test_server_errors_and_resets(sandbox: Sandbox, gateway: Gateway, responder: Credentials) -> None:
    install(gateway, "  - {kind: error, service: iam, status: 500}\n  - {kind: reset, service: sns}\n")
    iam, sns = client(sandbox, gateway, "iam", responder), client(sandbox, gateway, "sns", responder)
    assert error_of(iam.list_roles) == ("ServiceFailure", 500)
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        sns.list_topics()
    entry = last(gateway, "ListTopics")
    assert (entry.fault, entry.status) == ("reset", 0)


def test_latency_delays_the_call_which_still_succeeds(sandbox: Sandbox, gateway: Gateway,
                                                      responder: Credentials) -> None:
    install(gateway, "  - {kind: latency, name: slow, delay: 250ms, operation: ListUsers}\n")
    client(sandbox, gateway, "iam", responder).list_users()
    entry = last(gateway, "ListUsers")
    assert entry.fault == "slow" and entry.ok
    assert entry.duration >= 0.25  # a sleep never ends early


def test_a_fault_scoped_to_a_resource_spares_the_others(sandbox: Sandbox, gateway: Gateway,
                                                        responder: Credentials, instances: list[str]) -> None:
    target, other = instances
    install(gateway, f"  - {{kind: throttle, resource: {target}}}\n")
    ec2 = client(sandbox, gateway, "ec2", responder)
    assert error_of(ec2.create_tags, Resources=[target], Tags=[{"Key": "k", "Value": "v"}])[0] == \
        "RequestLimitExceeded"
    ec2.create_tags(Resources=[other], Tags=[{"Key": "k", "Value": "v"}])


def test_the_harness_own_calls_are_never_faulted(sandbox: Sandbox, gateway: Gateway) -> None:
    install(gateway, "  - {kind: throttle}\n")
    harness = client(sandbox, gateway, "iam", None)
    harness.list_users()
    assert last(gateway, "ListUsers").fault is None


def test_the_same_seed_faults_the_same_calls_over_the_wire(sandbox: Sandbox, gateway: Gateway,
                                                           responder: Credentials) -> None:
    def sequence(seed: int) -> tuple[list[bool], list[tuple[str, str, int, str]]]:
        hook = install(gateway, "  - {kind: throttle, probability: 0.5}\n", seed=seed)
        iam = client(sandbox, gateway, "iam", responder)
        outcomes = []
        for _ in range(16):
            try:
                iam.list_users()
                outcomes.append(True)
            except ClientError:
                outcomes.append(False)
        return outcomes, hook.signature()

    first = sequence(21)
    assert first == sequence(21)
    assert True in first[0] and False in first[0]
    assert sequence(22) != first
