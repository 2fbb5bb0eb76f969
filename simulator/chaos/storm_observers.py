"""A storm's observers: prepared once per step and resource copy, built per finding only when needed.

A storm's findings on one copy of the resource share what the observers learn before injection (the
copy's volumes, its profile associations), so each step's observer is prepared once per copy, with
the copy's first finding. A finding's own observers are built from it when its calls are folded into
evidence and again when its effects are confirmed, each time taking over what the copy's observer
learned, and are dropped after: memory does not grow with the number of findings. Observers of a
topic share one listener per topic.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from simulator.observers.base import Observer

# What prepare() may change that is not learned from the sandbox, or belongs to one finding only.
_NOT_LEARNED = frozenset({"injected_wall", "detail", "journal", "finding", "finding_id"})
_ABSENT = object()


def _snapshot(value: Any) -> Any:
    return copy.copy(value) if isinstance(value, set | dict | list) else value


def _topic(observer: Observer) -> str | None:
    """The topic an observer listens to (through a listener the storm shares), if it is one that does."""
    return getattr(observer, "topic_arn", None) if hasattr(observer, "listener") else None


def learned_by_prepare(observer: Observer, sandbox: Any) -> dict[str, tuple[str, Any]]:
    """Run ``observer.prepare`` and return what it learned: attribute -> ("add", items added to a set)
    or ("set", new value)."""
    before = {key: _snapshot(value) for key, value in vars(observer).items()}
    observer.prepare(sandbox)
    learned: dict[str, tuple[str, Any]] = {}
    for key, value in vars(observer).items():
        if key in _NOT_LEARNED:
            continue
        old = before.get(key, _ABSENT)
        if isinstance(value, set) and isinstance(old, set) and old <= value:
            if value - old:
                learned[key] = ("add", frozenset(value - old))
        elif old is _ABSENT or old != value:
            learned[key] = ("set", value)
    return learned


def teach(observer: Observer, learned: Mapping[str, tuple[str, Any]]) -> None:
    """Give ``observer`` what another observer of the same step and resource learned in prepare()."""
    for key, (how, value) in learned.items():
        if how == "add":
            getattr(observer, key).update(value)
        else:
            setattr(observer, key, copy.deepcopy(value))


class StormObservers:
    """Builds each finding's observers (step id -> observer) for a fanned-out scenario.

    ``names`` are the logical names of the resource copies (``names[0]`` the original), finding ``i``
    being bound to copy ``i % len(names)``; step parameters naming the original name the finding's copy.
    """

    def __init__(self, scenario: Any, env: Any, names: Sequence[str],
                 create_observer: Callable[..., Observer]) -> None:
        from simulator.verdicts.invariants import resource_ids

        self.scenario = scenario
        self.env = env
        self.names = list(names)
        self.create_observer = create_observer
        # Every id of a copy (its interfaces, volumes), so its calls are known before any check.
        self.copy_ids = [frozenset(resource_ids(env, name)) for name in self.names]
        self.listeners: dict[str, Any] = {}
        self.causing_operations: frozenset[str] = frozenset()
        self._learned: dict[tuple[int, str], dict[str, tuple[str, Any]]] = {}

    def params(self, step: Any, copy_index: int) -> dict[str, str]:
        original = self.names[0]
        return {key: self.names[copy_index] if value == original else value
                for key, value in step.expect.params.items()}

    def prepare(self, sandbox: Any, first_findings: Sequence[Mapping[str, Any]], listener_class: Any, *,
                workers: int = 2, on_listener: Callable[[Any], object] | None = None) -> int:
        """Prepare each step's observer once per copy (``first_findings[j]`` is the first finding on copy
        ``j``) and subscribe one listener per topic; returns how many observers were prepared."""
        templates: list[tuple[int, str, Observer]] = []
        operations: set[str] = set()
        for copy_index, finding in enumerate(first_findings):
            for step in self.scenario.steps:
                observer = self.create_observer(step.expect.kind, self.params(step, copy_index), self.env, finding,
                                                self.scenario)
                operations.update(observer.causing_operations)
                topic = _topic(observer)
                if topic is not None:
                    if topic not in self.listeners:
                        listener = self.listeners[topic] = listener_class(topic)
                        listener.subscribe(sandbox)
                        if on_listener is not None:
                            on_listener(listener)
                    continue
                observer.resource_ids.update(self.copy_ids[copy_index])
                templates.append((copy_index, step.id, observer))
        self.causing_operations = frozenset(operations)
        lock = threading.Lock()

        def learn(item: tuple[int, str, Observer]) -> None:
            copy_index, step_id, observer = item
            learned = learned_by_prepare(observer, sandbox)
            with lock:
                self._learned[(copy_index, step_id)] = learned

        with ThreadPoolExecutor(workers, thread_name_prefix="storm-prepare") as pool:
            list(pool.map(learn, templates))
        return len(templates)

    def build(self, index: int, finding: Mapping[str, Any], *, listeners: Mapping[str, Any] | None = None,
              steps: Iterable[str] | None = None) -> dict[str, Observer]:
        """Finding ``index``'s observers (of ``steps``, default all), prepared as its copy's were.

        Observers of a topic get ``listeners[topic_arn]`` (default the storm's own listeners).
        """
        copy_index = index % len(self.names)
        wanted = set(steps) if steps is not None else None
        shared = listeners if listeners is not None else self.listeners
        built: dict[str, Observer] = {}
        for step in self.scenario.steps:
            if wanted is not None and step.id not in wanted:
                continue
            observer = self.create_observer(step.expect.kind, self.params(step, copy_index), self.env, finding,
                                            self.scenario)
            topic = _topic(observer)
            if topic is not None:
                observer.listener = shared[topic]  # type: ignore[attr-defined]
            else:
                observer.resource_ids.update(self.copy_ids[copy_index])
                teach(observer, self._learned.get((copy_index, step.id), {}))
            built[step.id] = observer
        return built

    def owner(self, index: int) -> str:
        """The logical name of the copy finding ``index`` is bound to."""
        return self.names[index % len(self.names)]
