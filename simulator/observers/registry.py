"""Observers register themselves under the expectation kind they judge, with the parameters it takes.

The scenario validator accepts exactly the registered kinds and checks each step's parameters with
:func:`check_params`, so a new observer is usable in scenarios as soon as its module registers it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from simulator.errors import InputError
from simulator.observers.base import Observer


@dataclass(frozen=True)
class KindSpec:
    """One expectation kind: its observer class and the parameter sets it accepts."""

    name: str
    observer: type[Observer]
    # Each alternative is one accepted set of required parameters, e.g. ({"instance"}, {"role"}).
    alternatives: tuple[frozenset[str], ...]
    optional: frozenset[str] = frozenset()

    @property
    def accepted(self) -> frozenset[str]:
        return frozenset().union(*self.alternatives, self.optional)

    def describe_params(self) -> str:
        return " or ".join("{" + ", ".join(sorted(alt)) + "}" for alt in self.alternatives)


_REGISTRY: dict[str, KindSpec] = {}


def register(kind: str, *alternatives: str | tuple[str, ...],
             optional: tuple[str, ...] = ()) -> Callable[[type[Observer]], type[Observer]]:
    """Class decorator: ``@register("role_credentials_revoked", "instance", "role")`` means either
    ``instance`` or ``role``; a tuple alternative needs all of its parameters."""
    sets = tuple(frozenset((alt,) if isinstance(alt, str) else alt) for alt in alternatives)

    def decorate(cls: type[Observer]) -> type[Observer]:
        if kind in _REGISTRY and _REGISTRY[kind].observer is not cls:
            raise ValueError(f"expectation kind {kind!r} is already registered by {_REGISTRY[kind].observer}")
        cls.kind = kind
        _REGISTRY[kind] = KindSpec(kind, cls, sets or (frozenset(),), frozenset(optional))
        return cls

    return decorate


def _load_families() -> None:
    # Importing the family modules runs their @register decorators.
    from simulator.observers import ec2, iam, notify  # noqa: F401


def registered_kinds() -> dict[str, KindSpec]:
    """Every expectation kind an observer implements, by name."""
    _load_families()
    return dict(sorted(_REGISTRY.items()))


def check_params(kind: str, params: Mapping[str, Any]) -> list[str]:
    """Problems with a step's expectation, as short sentences (empty when it is fine)."""
    spec = registered_kinds().get(kind)
    if spec is None:
        return [f"unknown expectation kind '{kind}' (known: {', '.join(registered_kinds())})"]
    given = set(params)
    problems = []
    if not any(alt <= given for alt in spec.alternatives):
        problems.append(f"{kind} needs {spec.describe_params()}")
    unknown = sorted(given - spec.accepted)
    if unknown:
        problems.append(f"{kind} does not take {', '.join(unknown)} (it takes {spec.describe_params()})")
    return problems


def create_observer(kind: str, params: Mapping[str, str], env: Any, finding: Mapping[str, Any],
                    scenario: Any = None) -> Observer:
    """The observer for one step, with parameters the scenario implies (e.g. the escalation topic)."""
    spec = registered_kinds().get(kind)
    if spec is None:
        raise InputError(f"unknown expectation kind '{kind}'", field="expect",
                         fix=f"use one of {', '.join(registered_kinds())}")
    merged = dict(spec.observer.defaults_from(scenario)) if scenario is not None else {}
    merged.update(params)
    return spec.observer(merged, env, finding)
