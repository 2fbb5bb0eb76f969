"""A storm's observers: prepared once per step and resource copy, and each finding's built from its copy's."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from simulator.chaos.storm_observers import StormObservers, learned_by_prepare, teach
from simulator.observers.base import Observer

SANDBOX = object()


class Counting(Observer):
    """Learns, in prepare(), what the sandbox says about its instance (one read per prepare)."""

    causing_operations = frozenset({"StopInstances"})
    prepared: list[str] = []

    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        self.instance = params["instance"]
        self.volume_ids = {f"vol-{self.instance}-declared"}

    def prepare(self, sandbox: Any) -> None:
        super().prepare(sandbox)
        Counting.prepared.append(self.instance)
        self.resource_ids.add(f"assoc-{self.instance}")
        self.volume_ids = {f"vol-{self.instance}-attached"}
        self.policy = {"learned": self.instance}


class Listening(Observer):
    causing_operations = frozenset({"Publish"})

    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        self.topic_arn = f"arn:topic:{params['topic']}"
        self.listener = None


class Listener:
    def __init__(self, topic_arn: str) -> None:
        self.topic_arn, self.subscribed = topic_arn, 0

    def subscribe(self, sandbox: Any) -> None:
        self.subscribed += 1


def scenario() -> Any:
    steps = [SimpleNamespace(id="stop", expect=SimpleNamespace(kind="counting", params={"instance": "miner"})),
             SimpleNamespace(id="notify", expect=SimpleNamespace(kind="listening", params={"topic": "oncall"}))]
    return SimpleNamespace(steps=steps)


def env() -> Any:
    names = ["miner", "miner-1", "miner-2"]
    resources = {name: {"kind": "instance", "name": name, "id": f"i-{name}", "volumes": [{"id": f"vol-{name}"}]}
                 for name in names}
    return SimpleNamespace(resources=resources, ids_of=lambda name: {f"i-{name}", f"eni-{name}"})


def create(kind: str, params: dict[str, str], env: Any, finding: dict[str, Any], scenario: Any) -> Observer:
    return (Counting if kind == "counting" else Listening)(params, env, finding)


def test_what_prepare_learns_is_told_to_another_observer() -> None:
    template = Counting({"instance": "a"}, None, {"id": "f1"})
    template.resource_ids.add("i-a")
    learned = learned_by_prepare(template, SANDBOX)
    assert learned == {"resource_ids": ("add", frozenset({"assoc-a"})),
                       "volume_ids": ("set", {"vol-a-attached"}), "policy": ("set", {"learned": "a"})}
    fresh = Counting({"instance": "a"}, None, {"id": "f2"})
    fresh.resource_ids.add("i-a")
    teach(fresh, learned)
    assert fresh.resource_ids == {"i-a", "assoc-a"} and fresh.volume_ids == {"vol-a-attached"}
    assert fresh.finding_id == "f2" and fresh.injected_wall is None
    fresh.policy["learned"] = "changed"
    assert template.policy == {"learned": "a"}


def test_observers_are_prepared_once_per_copy_and_built_per_finding() -> None:
    Counting.prepared = []
    observers = StormObservers(scenario(), env(), ["miner", "miner-1", "miner-2"], create)
    closed: list[Any] = []
    prepared = observers.prepare(SANDBOX, [{"id": f"f{n}"} for n in range(3)], Listener, on_listener=closed.append)
    assert prepared == 3 and sorted(Counting.prepared) == ["miner", "miner-1", "miner-2"]
    assert list(observers.listeners) == ["arn:topic:oncall"] and observers.listeners["arn:topic:oncall"].subscribed == 1
    assert closed == [observers.listeners["arn:topic:oncall"]]
    assert observers.causing_operations == {"StopInstances", "Publish"}

    built = observers.build(4, {"id": "f4"})  # finding 4 is on copy 1
    stop, notify = built["stop"], built["notify"]
    assert isinstance(stop, Counting) and stop.params == {"instance": "miner-1"} and stop.finding_id == "f4"
    assert stop.resource_ids == {"i-miner-1", "eni-miner-1", "vol-miner-1", "assoc-miner-1"}
    assert stop.volume_ids == {"vol-miner-1-attached"} and observers.owner(4) == "miner-1"
    assert notify.listener is observers.listeners["arn:topic:oncall"]  # type: ignore[attr-defined]
    assert len(Counting.prepared) == 3  # building prepares nothing again

    other = {"arn:topic:oncall": "drained"}
    only = observers.build(2, {"id": "f2"}, steps=["notify"], listeners=other)
    assert list(only) == ["notify"] and only["notify"].listener == "drained"  # type: ignore[attr-defined]
