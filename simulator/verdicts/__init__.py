"""Verdicts: each step's observed time against its SLA, and the invariants every run must keep."""

from simulator.verdicts.invariants import (
    InvariantContext,
    InvariantSpec,
    blast_radius,
    changed_ids,
    evaluate_invariants,
    invariant,
    no_duplicate_side_effects,
    no_unhandled_errors,
    pages_from_journal,
    registered_invariants,
    remediated_or_escalated,
    shared_resource_names,
)
from simulator.verdicts.model import LATE, MET, MISSING, Invariant, StepVerdict
from simulator.verdicts.sla import classify, judge_step, judge_steps, runbook_seconds

__all__ = [
    "LATE",
    "MET",
    "MISSING",
    "Invariant",
    "InvariantContext",
    "InvariantSpec",
    "StepVerdict",
    "blast_radius",
    "changed_ids",
    "classify",
    "evaluate_invariants",
    "invariant",
    "judge_step",
    "judge_steps",
    "no_duplicate_side_effects",
    "no_unhandled_errors",
    "pages_from_journal",
    "registered_invariants",
    "remediated_or_escalated",
    "runbook_seconds",
    "shared_resource_names",
]
