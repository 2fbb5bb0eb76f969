"""What provisioning built: one descriptor per logical name, read back from the sandbox's API."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from simulator.errors import InputError
from simulator.targets.base import Credentials

_REFERENCE = re.compile(r"\$\{([^}]*)\}")

# descriptor keys whose values are ids, ARNs or names that API calls use to name the resource
_ID_KEYS = ("id", "arn", "role_name", "user_name", "bucket_name", "topic_name", "group_name")


@dataclass
class ProvisionedEnvironment:
    """The built environment: ``resources[logical name]`` is a descriptor (plain dict, snake_case keys).

    Descriptors are added as soon as their resource exists, so a half-built environment can always
    be torn down. ``support`` holds what the harness made for itself (e.g. a machine image).
    """

    run_id: str
    account_id: str
    region: str
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    bystander_names: frozenset[str] = frozenset()
    escalation: dict[str, Any] | None = None
    support: list[dict[str, Any]] = field(default_factory=list)
    _credentials: dict[str, list[Credentials]] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ lookups

    def descriptor(self, logical_name: str) -> dict[str, Any]:
        try:
            return self.resources[logical_name]
        except KeyError:
            raise InputError(f"no resource named {logical_name!r} in this environment",
                             fix=f"known: {', '.join(sorted(self.resources)) or 'none'}") from None

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [descriptor for descriptor in self.resources.values() if descriptor["kind"] == kind]

    def ids_of(self, logical_name: str) -> set[str]:
        """Every id, ARN and name that belongs to the resource (an instance's ENIs and volumes,
        a user's access keys, a role's instance profile...)."""
        return set(_ids(self.descriptor(logical_name)))

    def owner_of(self, resource_id: str) -> str | None:
        """The logical name an id, ARN or name belongs to, if any."""
        for name in self.resources:
            if resource_id in self.ids_of(name):
                return name
        return None

    def credentials_of(self, user: str, index: int = 0) -> Credentials:
        """The access key provisioning made for a user (secrets are kept out of descriptors)."""
        keys = self._credentials.get(user) or []
        if index >= len(keys):
            raise InputError(f"user {user!r} has no access key #{index + 1}",
                             fix="give the user access_keys in the scenario's environment")
        return keys[index]

    def add_credentials(self, user: str, credentials: Credentials) -> None:
        self._credentials.setdefault(user, []).append(credentials)

    # ------------------------------------------------------------------ references

    def builtins(self) -> dict[str, str]:
        values = {"run_id": self.run_id, "account_id": self.account_id, "region": self.region}
        if self.escalation is not None:
            values["escalation"] = json.dumps(self.escalation, sort_keys=True)
        return values

    def resolve(self, text: str) -> str:
        """Substitute ``${name.attribute}`` (``${miner.id}``, ``${pager.arn}``,
        ``${miner.instance_profile.role_arn}``) and ``${run_id}``, ``${account_id}``, ``${region}``,
        ``${escalation}``."""
        return _REFERENCE.sub(lambda match: self._value(match.group(1).strip(), text), text)

    def _value(self, reference: str, text: str) -> str:
        builtins = self.builtins()
        if reference in builtins:
            return builtins[reference]
        name, _, path = reference.partition(".")
        value: Any = self.resources.get(name)
        for part in path.split(".") if path else []:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None or isinstance(value, dict | list) or not path:
            raise InputError(f"cannot resolve ${{{reference}}} in {text!r}",
                             fix=f"name a resource and attribute, e.g. ${{{next(iter(self.resources), 'name')}.id}}")
        return str(value)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (no secrets), for reports."""
        return {"run_id": self.run_id, "account_id": self.account_id, "region": self.region,
                "resources": self.resources, "bystanders": sorted(self.bystander_names), "support": self.support}


def _ids(descriptor: dict[str, Any]) -> Iterator[str]:
    for key in _ID_KEYS:
        value = descriptor.get(key)
        if isinstance(value, str) and value:
            yield value
    for nested in ("network_interfaces", "volumes", "access_keys"):
        for item in descriptor.get(nested) or []:
            if item.get("id"):
                yield item["id"]
    if descriptor["kind"] == "role":
        profile = descriptor.get("instance_profile") or {}
        yield from (profile[key] for key in ("arn", "name", "id") if profile.get(key))
    elastic_ip = descriptor.get("elastic_ip") or {}
    yield from (elastic_ip[key] for key in ("allocation_id", "public_ip") if elastic_ip.get(key))
