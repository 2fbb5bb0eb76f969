"""Timing error of the observers: when they date an effect versus when a scripted actor really caused it.

A scripted responder, after a known delay, stops an instance, publishes a notification and isolates both
network interfaces of another instance, through the real gateway. It notes the monotonic time each
effect's last call returned to it; the observation loop (50 ms polling) dates the same effects from the
gateway journal. Poll-only dating (the first poll that saw the effect) is printed for comparison.
Prints figures; asserts nothing. Target: journal-dated error within 10 ms.

Usage: python benchmarks/observer_accuracy.py [TRIALS] [SEED]
"""

from __future__ import annotations

import random
import statistics
import sys
import threading
import time
from typing import Any

from simulator.gateway import Gateway, Journal
from simulator.observers import ObservationLoop, create_observer
from simulator.observers.clients import sandbox_client
from simulator.provision.environment import ProvisionedEnvironment
from simulator.targets.base import Credentials, Sandbox
from simulator.targets.moto import MotoTarget

RESPONDER = Credentials("AKIABENCHRESPONDER01", "bench-secret")


def build(sandbox: Sandbox, trial: int) -> tuple[ProvisionedEnvironment, str]:
    ec2 = sandbox_client(sandbox, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName=f"web-{trial}", Description="web", VpcId=vpc)["GroupId"]
    iso = ec2.create_security_group(GroupName=f"iso-{trial}", Description="iso", VpcId=vpc)["GroupId"]
    ec2.revoke_security_group_egress(GroupId=iso, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    resources: dict[str, dict[str, Any]] = {}
    for name in ("miner", "worker"):
        instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=subnet,
                                     SecurityGroupIds=[web])["Instances"][0]
        eni = ec2.create_network_interface(SubnetId=subnet, Groups=[web])["NetworkInterface"]["NetworkInterfaceId"]
        ec2.attach_network_interface(NetworkInterfaceId=eni, InstanceId=instance["InstanceId"], DeviceIndex=1)
        nics = [instance["NetworkInterfaces"][0]["NetworkInterfaceId"], eni]
        resources[name] = {"kind": "instance", "name": name, "id": instance["InstanceId"], "volumes": [],
                           "network_interfaces": [{"id": nic} for nic in nics], "instance_profile": None}
    topic = sandbox_client(sandbox, "sns").create_topic(Name=f"oncall-{trial}")["TopicArn"]
    resources["oncall"] = {"kind": "topic", "name": "oncall", "id": topic, "arn": topic}
    env = ProvisionedEnvironment(run_id=f"bench-{trial}", account_id=sandbox.account_id, region=sandbox.region,
                                 resources=resources)
    return env, iso


def trial(sandbox: Sandbox, gateway_url: str, journal: Journal, index: int, delay: float) -> dict[str, tuple]:
    env, iso = build(sandbox, index)
    finding = {"id": f"finding-{index:04d}"}
    observers = {
        "notify": create_observer("notification_delivered", {"topic": "oncall"}, env, finding),
        "stop": create_observer("instance_stopped", {"instance": "miner"}, env, finding),
        "quarantine": create_observer("instance_quarantined", {"instance": "worker"}, env, finding),
    }
    for observer in observers.values():
        observer.prepare(sandbox)
    ec2 = sandbox.client("ec2", endpoint_url=gateway_url, credentials=RESPONDER)
    sns = sandbox.client("sns", endpoint_url=gateway_url, credentials=RESPONDER)
    caused: dict[str, float] = {}

    def act() -> None:
        time.sleep(delay)
        sns.publish(TopicArn=env.resources["oncall"]["arn"], Message=f"GuardDuty {finding['id']}")
        caused["notify"] = time.monotonic()
        ec2.stop_instances(InstanceIds=[env.resources["miner"]["id"]])
        caused["stop"] = time.monotonic()
        for nic in env.resources["worker"]["network_interfaces"]:
            ec2.modify_network_interface_attribute(NetworkInterfaceId=nic["id"], Groups=[iso])
        caused["quarantine"] = time.monotonic()

    injected = time.monotonic()
    actor = threading.Thread(target=act)
    actor.start()
    observations = ObservationLoop(sandbox, journal, observers, injected_mono=injected,
                                   deadline_mono=injected + delay + 5).run()
    actor.join()
    for observer in observers.values():
        observer.cleanup(sandbox)
    result = {}
    for step, seen in observations.items():
        if not seen.met:
            result[step] = (None, None, "missing")
            continue
        result[step] = (seen.attributed_mono - caused[step], seen.first_poll_mono - caused[step], seen.source)
    return result


def summary(errors: list[float]) -> str:
    magnitudes = sorted(abs(error) * 1000 for error in errors)
    p95 = magnitudes[min(len(magnitudes) - 1, round(0.95 * (len(magnitudes) - 1)))]
    within = sum(1 for m in magnitudes if m <= 10) / len(magnitudes)
    signed = statistics.median(errors) * 1000
    return (f"median |err| {statistics.median(magnitudes):6.2f} ms  p95 {p95:6.2f} ms  max {magnitudes[-1]:6.2f} ms"
            f"  (signed median {signed:+.2f} ms, {within:.0%} within 10 ms)")


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
    target = MotoTarget()
    try:
        sandbox = target.start()
        target.warm()
        journal = Journal()
        with Gateway(sandbox.endpoint_url or "", journal, region=sandbox.region,
                     account_id=sandbox.account_id) as gateway:
            results = [trial(sandbox, gateway.url, journal, i, rng.uniform(0.05, 0.3)) for i in range(trials)]
    finally:
        target.stop()
    print(f"observer timing error, {trials} trials, actor delay 50-300 ms, polling every 50 ms")
    print("error = dated time - the moment the effect's last call returned to the actor")
    for step in ("notify", "stop", "quarantine"):
        rows = [r[step] for r in results]
        missing = sum(1 for r in rows if r[2] == "missing")
        dated = [r for r in rows if r[2] != "missing"]
        sources = {source: sum(1 for r in dated if r[2] == source) for source in ("journal", "poll")}
        print(f"  {step:<11} journal-dated  {summary([r[0] for r in dated])}")
        print(f"  {'':<11} poll-only      {summary([r[1] for r in dated])}")
        print(f"  {'':<11} dated by {sources}, missing {missing}")


if __name__ == "__main__":
    main()
