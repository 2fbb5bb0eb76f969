"""Scenario files: runbooks as data, validated on load with every problem located by line and field."""

from simulator.scenario.durations import format_duration, parse_duration
from simulator.scenario.files import list_scenarios, load_scenario, parse_scenario, scenario_names
from simulator.scenario.issues import ScenarioError
from simulator.scenario.kinds import ExpectationKind, registered_kinds
from simulator.scenario.model import (
    Bucket,
    Duration,
    Environment,
    EscalationLevel,
    EscalationPath,
    Expectation,
    FindingSpec,
    Instance,
    ResponderSpec,
    Role,
    RuleSpec,
    Scenario,
    SecurityGroup,
    Step,
    Subnet,
    Topic,
    User,
    Volume,
    Vpc,
)

__all__ = [
    "Bucket",
    "Duration",
    "Environment",
    "EscalationLevel",
    "EscalationPath",
    "Expectation",
    "ExpectationKind",
    "FindingSpec",
    "Instance",
    "ResponderSpec",
    "Role",
    "RuleSpec",
    "Scenario",
    "ScenarioError",
    "SecurityGroup",
    "Step",
    "Subnet",
    "Topic",
    "User",
    "Volume",
    "Vpc",
    "format_duration",
    "list_scenarios",
    "load_scenario",
    "parse_duration",
    "parse_scenario",
    "registered_kinds",
    "scenario_names",
]
