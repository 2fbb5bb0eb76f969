"""The observation loop on a real moto server: through the real gateway, and with a scripted actor.

The scripted actor makes its calls with boto3 and records each one in the journal the way the gateway
does (``mono`` when the response came back), so attribution can be checked exactly, including entries
that reach the journal late.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from simulator.gateway import Gateway
from simulator.gateway.journal import Journal, JournalEntry
from simulator.observers import ObservationLoop, create_observer
from simulator.observers.clients import sandbox_client
from simulator.provision.environment import ProvisionedEnvironment
from simulator.targets.base import Credentials, Sandbox

pytestmark = pytest.mark.integration

RESPONDER_KEY = "AKIARESPONDER0000000"


def launch(sandbox: Sandbox, name: str) -> dict[str, Any]:
    ec2 = sandbox_client(sandbox, "ec2")
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]
    return {"kind": "instance", "name": name, "id": instance["InstanceId"], "arn": "", "network_interfaces": [],
            "volumes": [], "instance_profile": None, "security_groups": [], "tags": {}}


def environment(*descriptors: dict[str, Any]) -> ProvisionedEnvironment:
    return ProvisionedEnvironment(run_id="gdsim-loop", account_id="123456789012", region="us-east-1",
                                  resources={d["name"]: d for d in descriptors})


def record(journal: Journal, operation: str, params: dict[str, Any], call: Callable[[], Any], *,
           append_delay: float = 0.0) -> float:
    """Make ``call`` and journal it as the gateway would; returns the entry's mono."""
    started = time.monotonic()
    call()
    ended = time.monotonic()
    if append_delay:
        time.sleep(append_delay)
    journal.append(JournalEntry(
        seq=0, mono=ended, mono_start=started, wall=time.time(), service="ec2", operation=operation,
        region="us-east-1", caller=RESPONDER_KEY, resource_ids=tuple(params.get("InstanceIds", ())),
        params=params, status=200, error_code=None, fault=None, mutating=True,
    ))
    return ended


def stop(sandbox: Sandbox, journal: Journal, instance_id: str, **kwargs: Any) -> float:
    ec2 = sandbox_client(sandbox, "ec2")
    return record(journal, "StopInstances", {"InstanceIds": [instance_id]},
                  lambda: ec2.stop_instances(InstanceIds=[instance_id]), **kwargs)


def test_through_the_gateway_each_effect_is_dated_by_the_call_that_caused_it(sandbox: Sandbox) -> None:
    miner = launch(sandbox, "miner")
    arn = sandbox_client(sandbox, "sns").create_topic(Name="ir-oncall-loop")["TopicArn"]
    env = environment(miner, {"kind": "topic", "name": "ir-oncall", "id": arn, "arn": arn})
    observers = {
        "notify": create_observer("notification_delivered", {"topic": "ir-oncall"}, env, {"id": "f-gw"}),
        "stop": create_observer("instance_stopped", {"instance": "miner"}, env, {"id": "f-gw"}),
    }
    for observer in observers.values():
        observer.prepare(sandbox)
    journal = Journal()
    returned: dict[str, float] = {}
    with Gateway(sandbox.endpoint_url or "", journal, region=sandbox.region) as gateway:
        responder = Credentials(RESPONDER_KEY, "responder-secret")
        ec2 = sandbox.client("ec2", endpoint_url=gateway.url, credentials=responder)
        sns = sandbox.client("sns", endpoint_url=gateway.url, credentials=responder)

        def act() -> None:
            time.sleep(0.1)
            sns.publish(TopicArn=arn, Message="GuardDuty finding f-gw on the miner")
            returned["notify"] = time.monotonic()
            time.sleep(0.1)
            ec2.stop_instances(InstanceIds=[miner["id"]])
            returned["stop"] = time.monotonic()

        injected = time.monotonic()
        actor = threading.Thread(target=act)
        actor.start()
        observations = ObservationLoop(sandbox, journal, observers, injected_mono=injected,
                                       deadline_mono=injected + 10).run()
        actor.join()
    entries = {entry.operation: entry for entry in journal.entries() if entry.caller == RESPONDER_KEY}
    for step, operation in (("notify", "Publish"), ("stop", "StopInstances")):
        seen = observations[step]
        assert seen.met and seen.source == "journal" and seen.operation == operation
        assert seen.journal_seq == entries[operation].seq
        assert seen.attributed_mono == min(entries[operation].mono, seen.first_poll_mono)
        assert entries[operation].mono_start <= seen.attributed_mono <= returned[step]


def test_effects_are_dated_by_the_journal_entry_of_the_call_that_caused_them(sandbox: Sandbox) -> None:
    miner, neighbour = launch(sandbox, "miner"), launch(sandbox, "neighbour")
    journal = Journal()
    observer = create_observer("instance_stopped", {"instance": "miner"}, environment(miner, neighbour),
                               {"id": "f1"})
    observer.prepare(sandbox)
    injected = time.monotonic()
    caused: list[float] = []

    def actor() -> None:
        time.sleep(0.12)
        caused.append(stop(sandbox, journal, miner["id"]))
        # A later stop of another instance, before the next poll, must not be taken for the cause.
        stop(sandbox, journal, neighbour["id"])

    thread = threading.Thread(target=actor)
    thread.start()
    loop = ObservationLoop(sandbox, journal, {"stop": observer}, injected_mono=injected,
                           deadline_mono=injected + 10)
    observations = loop.run()
    thread.join()

    seen = observations["stop"]
    assert seen.met and seen.source == "journal" and seen.operation == "StopInstances"
    assert seen.attributed_mono == caused[0]
    assert seen.first_poll_mono is not None and seen.first_poll_mono >= seen.attributed_mono
    assert seen.polls > 1, "the effect came after the first poll"


def test_an_entry_journaled_after_the_poll_saw_the_effect_still_dates_it(sandbox: Sandbox) -> None:
    miner = launch(sandbox, "miner")
    journal = Journal()
    observer = create_observer("instance_stopped", {"instance": "miner"}, environment(miner), {"id": "f2"})
    observer.prepare(sandbox)
    injected = time.monotonic()
    caused: list[float] = []
    # The stop lands at once, but its entry reaches the journal only 50 ms later, as a gateway may.
    thread = threading.Thread(target=lambda: caused.append(stop(sandbox, journal, miner["id"], append_delay=0.05)))
    thread.start()
    loop = ObservationLoop(sandbox, journal, {"stop": observer}, injected_mono=injected,
                           deadline_mono=injected + 10, journal_grace=1.0)
    observations = loop.run()
    thread.join()
    assert observations["stop"].source == "journal"
    assert observations["stop"].attributed_mono == caused[0]


def test_an_effect_without_a_causing_entry_is_dated_by_the_poll(sandbox: Sandbox) -> None:
    miner = launch(sandbox, "miner")
    sandbox_client(sandbox, "ec2").stop_instances(InstanceIds=[miner["id"]])
    journal = Journal()
    observer = create_observer("instance_stopped", {"instance": "miner"}, environment(miner), {"id": "f3"})
    injected = time.monotonic()
    observations = ObservationLoop(sandbox, journal, {"stop": observer}, injected_mono=injected,
                                   deadline_mono=injected + 10, journal_grace=0.0).run()
    seen = observations["stop"]
    assert seen.met and seen.source == "poll" and seen.operation is None
    assert seen.attributed_mono == seen.first_poll_mono


def test_unmet_steps_are_polled_until_the_deadline_and_reported_missing(sandbox: Sandbox) -> None:
    miner, other = launch(sandbox, "miner"), launch(sandbox, "other")
    sandbox_client(sandbox, "ec2").stop_instances(InstanceIds=[other["id"]])
    env = environment(miner, other)
    observers = {
        "never": create_observer("instance_stopped", {"instance": "miner"}, env, {"id": "f4"}),
        "already": create_observer("instance_stopped", {"instance": "other"}, env, {"id": "f4"}),
    }
    injected = time.monotonic()
    loop = ObservationLoop(sandbox, Journal(), observers, injected_mono=injected, deadline_mono=injected + 0.3,
                           journal_grace=0.0)
    observations = loop.run()
    assert observations["already"].met and observations["already"].polls == 1, "a met step is polled no more"
    never = observations["never"]
    assert not never.met and never.attributed_mono is None and never.source is None
    assert never.polls >= 3
    assert never.detail == f"{miner['id']} is running"
    assert loop.finished_mono is not None and loop.finished_mono >= loop.deadline_mono


def test_stop_ends_the_loop_early(sandbox: Sandbox) -> None:
    miner = launch(sandbox, "miner")
    observer = create_observer("instance_stopped", {"instance": "miner"}, environment(miner), {"id": "f5"})
    injected = time.monotonic()
    loop = ObservationLoop(sandbox, Journal(), {"stop": observer}, injected_mono=injected,
                           deadline_mono=injected + 600)
    timer = threading.Timer(0.2, loop.stop)
    timer.start()
    observations = loop.run()
    timer.join()
    assert not observations["stop"].met
    assert loop.finished_mono is not None and loop.finished_mono < loop.deadline_mono


def test_cleanup_removes_the_harness_queues(sandbox: Sandbox) -> None:
    arn = sandbox_client(sandbox, "sns").create_topic(Name="ir-oncall-cleanup")["TopicArn"]
    env = environment({"kind": "topic", "name": "ir-oncall", "id": arn, "arn": arn})
    observer = create_observer("notification_delivered", {"topic": "ir-oncall"}, env, {"id": "f6"})
    observer.prepare(sandbox)
    queue_url = observer.listener.queue_url
    assert queue_url in sandbox_client(sandbox, "sqs").list_queues().get("QueueUrls", [])
    injected = time.monotonic()
    loop = ObservationLoop(sandbox, Journal(), {"notify": observer}, injected_mono=injected,
                           deadline_mono=injected)
    loop.run()
    loop.cleanup()
    assert queue_url not in sandbox_client(sandbox, "sqs").list_queues().get("QueueUrls", [])
    assert sandbox_client(sandbox, "sns").list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
