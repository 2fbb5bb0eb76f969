"""Expectation kinds a step may use, with the parameters each takes.

The observers own the kinds: each registers the kind it judges and the parameter sets it accepts
(``simulator.observers.registry``), and a scenario may use exactly those. A parameter's name says
what its value names: ``instance`` an instance's logical name, ``topic`` a topic's, ``level`` an
escalation level number, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# parameter name -> what its value must name (a resource kind, or an escalation "level")
PARAM_TARGETS: dict[str, str] = {
    "instance": "instance", "role": "role", "user": "user", "bucket": "bucket", "topic": "topic",
    "subnet": "subnet", "security_group": "security_group", "vpc": "vpc", "level": "level",
    "evidence": "bucket",
}

_TITLES: dict[str, str] = {
    "notification_delivered": "Notify {topic}",
    "instance_quarantined": "Quarantine {instance}",
    "volumes_snapshotted": "Snapshot the volumes of {instance}",
    "role_credentials_revoked": "Revoke the role credentials of {instance}{role}",
    "access_key_deactivated": "Deactivate the access keys of {user}",
    "console_password_removed": "Remove the console password of {user}",
    "escalation_paged": "Page escalation level {level}",
    "instance_stopped": "Stop {instance}",
    "remote_ip_blocked": "Block the remote address at {instance}{subnet}{bucket}",
    "bucket_public_access_blocked": "Block public access to {bucket}",
    "bucket_policy_preserved": "Keep the policy of {bucket} as evidence in {evidence}",
    "object_quarantined": "Quarantine the malicious object in {bucket}",
    "evidence_collected": "Gather the finding's data into {evidence}",
}


@dataclass(frozen=True)
class ExpectationKind:
    name: str
    # Each alternative is one accepted set of required parameters: {param: what it names}.
    alternatives: tuple[dict[str, str], ...]
    optional: dict[str, str] = field(default_factory=dict)

    def describe_params(self) -> str:
        return " or ".join("{" + ", ".join(alt) + "}" for alt in self.alternatives)

    def match(self, params: set[str]) -> dict[str, str] | None:
        """{param: what it names} for the given parameter names, or None if no alternative fits."""
        for alternative in self.alternatives:
            if set(alternative) <= params <= set(alternative) | set(self.optional):
                return {**alternative, **{p: t for p, t in self.optional.items() if p in params}}
        return None


def registered_kinds() -> dict[str, ExpectationKind]:
    """The kinds a scenario may use: exactly those the observers register."""
    from simulator.observers.registry import registered_kinds as observer_kinds

    return {name: _from_spec(spec) for name, spec in observer_kinds().items()}


def _from_spec(spec: Any) -> ExpectationKind:
    def targets(params: Any) -> dict[str, str]:
        return {param: PARAM_TARGETS.get(param, "text") for param in sorted(params)}

    alternatives = tuple(targets(alt) for alt in spec.alternatives)
    optional = targets(set(spec.optional))
    return ExpectationKind(spec.name, alternatives, optional)


def default_title(kind_name: str, params: dict[str, Any]) -> str:
    """A step title for steps that give none: "Quarantine miner"."""
    template = _TITLES.get(kind_name)
    if template is None:
        return kind_name.replace("_", " ").capitalize()
    values = {param: "" for param in PARAM_TARGETS} | {key: str(value) for key, value in params.items()}
    return template.format_map(values)
