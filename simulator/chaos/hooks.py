"""Chaos in a run, as a few calls the runner makes: attach the profile to the gateway, inject the findings
through the delivery plan, wait for the last planned delivery, and report what chaos did.

Without a profile the same calls inject each event once, when published, which is a plain run.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simulator.chaos.attribution import attribute_misses, delivery_lines, describe_faults
from simulator.chaos.delivery import DeliveryPlan, PlanInjector, plain_plan
from simulator.chaos.faults import ChaosFaults
from simulator.chaos.profile import ChaosProfile, load_profile
from simulator.reports.model import ChaosEffects

# Past the last planned delivery, how long to wait for the injector before giving up on it.
INJECTOR_GRACE_SECONDS = 5.0


def chaos_rng(seed: int, scenario_id: str, purpose: str) -> random.Random:
    """A generator for one kind of chaos decision, apart from the findings' own: turning chaos on never
    changes the findings a seed gives, and faults never shift the delivery plan."""
    return random.Random(f"{seed}:{scenario_id}:chaos:{purpose}")


@dataclass
class RunChaos:
    """One run's chaos: the profile (None for a plain run), its fault hook, its plan and injector."""

    profile: ChaosProfile | None
    seed: int
    scenario_id: str
    time_scale: float
    faults: ChaosFaults | None = None
    plan: DeliveryPlan | None = None
    injector: PlanInjector | None = None

    @property
    def argument(self) -> str | None:
        """What ``--chaos`` said, for the run's one-line repro."""
        return self.profile.argument() if self.profile else None

    @property
    def span_seconds(self) -> float:
        """Wall seconds from the first publication to the last planned delivery (add it to the window)."""
        return self.plan.span_seconds if self.plan else 0.0

    def start_injection(self, sandbox: Any, envelopes: Sequence[Mapping[str, Any]], *, gateway: Any,
                        offsets: Sequence[float] | None = None, cancel: threading.Event | None = None,
                        stack: contextlib.ExitStack | None = None, events_client: Any = None) -> float:
        """Plan the deliveries of ``envelopes`` (published at ``offsets``, wall seconds) and start injecting
        them; returns the moment of the first publication (``time.monotonic()``), which SLAs run from."""
        from simulator.delivery import inject_event

        if self.profile is not None:
            self.plan = self.profile.plan_deliveries(envelopes, chaos_rng(self.seed, self.scenario_id, "delivery"),
                                                     self.time_scale, offsets=offsets)
        else:
            self.plan = plain_plan(envelopes, offsets=offsets, time_scale=self.time_scale)
        events = events_client or sandbox.client("events")
        self.injector = PlanInjector(
            self.plan, inject=lambda envelope: inject_event(sandbox, dict(envelope), events_client=events),
            on_publish=lambda finding: gateway.findings.add(finding), cancel=cancel or threading.Event())
        if stack is not None:
            stack.callback(self.injector.stop)
        return self.injector.start()

    def wait_for_deliveries(self) -> bool:
        """Block until the last planned delivery is on the bus (late duplicates are judged too)."""
        if self.injector is None or self.injector.started_mono is None:
            return True
        remaining = self.injector.started_mono + self.span_seconds - time.monotonic()
        return self.injector.join(timeout=max(0.0, remaining) + INJECTOR_GRACE_SECONDS)

    @property
    def errors(self) -> list[str]:
        return list(self.injector.errors) if self.injector else []

    def report(self, steps: Sequence[Any], invariants: Sequence[Any], journal: Any, *, finding_id: str | None,
               responder_callers: Collection[str] | None = None,
               extra_errors: Sequence[str] = ()) -> ChaosEffects | None:
        """What chaos did to the run, for its report (None for a plain run): the profile, the faults
        injected, each faulted call, each delivery anomaly, and which chaos caused which miss."""
        if self.profile is None:
            return None
        plan = self.plan
        return ChaosEffects(
            profile=self.profile.name,
            faults=self.faults.counts() if self.faults else {},
            fault_calls=describe_faults(journal, responder_callers=responder_callers),
            deliveries=delivery_lines(plan) if plan is not None else [],  # a plan of drops only is empty
            attribution=attribute_misses(steps, invariants, journal, plan=plan, finding_id=finding_id,
                                         time_scale=self.time_scale, responder_callers=responder_callers),
            planned_deliveries=len(plan) if plan is not None else 0,
            fault_signature=[list(key) for key in self.faults.signature()] if self.faults else [],
            delivery_signature=[list(key) for key in plan.signature()] if plan is not None else [],
            errors=[*self.errors, *extra_errors],
        )


def attach_chaos(chaos: str | ChaosProfile | None, *, seed: int, scenario_id: str, time_scale: float, env: Any,
                 gateway: Any) -> RunChaos:
    """Load the profile (a name, a file or a loaded profile; None for a plain run) and put its fault hook
    on the gateway. Faults touch only calls by callers the journal labels ``responder`` (unless a rule
    says otherwise); logical resource names in rules resolve through ``env``."""
    profile = load_profile(chaos) if isinstance(chaos, str) else chaos
    run = RunChaos(profile, seed, scenario_id, time_scale)
    if profile is not None and profile.faults:
        run.faults = profile.fault_hook(chaos_rng(seed, scenario_id, "faults"), time_scale=time_scale, env=env,
                                        label_of=gateway.journal.label_of)
        gateway.fault_hook = run.faults
    return run
