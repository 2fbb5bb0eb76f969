"""Chaos: gateway faults, delivery anomalies and finding storms, as seeded data.

    profile = load_profile("throttle")                    # or a path to a YAML file
    gateway.fault_hook = profile.fault_hook(rng, time_scale=60, env=env, label_of=journal.label_of)
    plan = profile.plan_deliveries(envelopes, rng, time_scale=60)
    lines = attribute_misses(steps, invariants, journal, plan=plan)

Exports load on first use, so `simulate list chaos` does not pay for the harness.
"""

from __future__ import annotations

from simulator.lazy_exports import lazy_getattr

_EXPORTS = {
    "ChaosProfile": "profile", "ChaosProfileError": "profile", "FaultRule": "profile", "DeliveryChaos": "profile",
    "load_profile": "profile", "list_profiles": "profile", "parse_profile": "profile", "profile_names": "profile",
    "ChaosFaults": "faults", "InjectedFault": "faults", "denied_error": "faults", "internal_error": "faults",
    "DeliveryPlan": "delivery", "PlannedDelivery": "delivery", "PlanInjector": "delivery",
    "plan_deliveries": "delivery", "plain_plan": "delivery",
    "attribute_misses": "attribution", "step_causes": "attribution", "describe_faults": "attribution",
    "delivery_lines": "attribution",
    "chaos_rng": "hooks", "RunChaos": "hooks", "attach_chaos": "hooks",
    "StormReport": "storm_report", "StepStats": "storm_report", "render_storm": "storm_report",
}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_getattr(__name__, _EXPORTS)
