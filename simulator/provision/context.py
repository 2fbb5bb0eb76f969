"""What every provisioning step shares: the sandbox, its clients, the run id and the environment so far."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.provision import clients
from simulator.provision.environment import ProvisionedEnvironment
from simulator.provision.naming import physical_name, run_tags
from simulator.targets.base import Sandbox


@dataclass
class BuildContext:
    sandbox: Sandbox
    env: ProvisionedEnvironment

    @property
    def run_id(self) -> str:
        return self.env.run_id

    def client(self, service: str) -> Any:
        return clients.client(self.sandbox, service)

    def tags(self, logical_name: str, extra: dict[str, str] | None = None) -> list[dict[str, str]]:
        return run_tags(self.run_id, logical_name, extra)

    def tag_spec(self, resource_type: str, logical_name: str,
                 extra: dict[str, str] | None = None) -> list[dict[str, Any]]:
        return [{"ResourceType": resource_type, "Tags": self.tags(logical_name, extra)}]

    def name(self, logical_name: str, limit: int = 64, *, lower: bool = False) -> str:
        return physical_name(self.run_id, logical_name, limit, lower=lower)

    def register(self, logical_name: str, descriptor: dict[str, Any]) -> dict[str, Any]:
        """Record a resource the moment it exists, so a failure later still tears it down."""
        descriptor.setdefault("name", logical_name)
        self.env.resources[logical_name] = descriptor
        return descriptor
