"""Targets give a sandbox: an AWS API endpoint plus credentials (moto, LocalStack, a real account)."""

from simulator.targets.base import Credentials, Sandbox, Target

__all__ = ["Credentials", "Sandbox", "Target"]
