"""Building a scenario's environment in a sandbox, taking its inventory, and tearing it down."""

from simulator.provision.builder import provision
from simulator.provision.environment import ProvisionedEnvironment
from simulator.provision.errors import ProvisionError
from simulator.provision.inventory import take_inventory
from simulator.provision.naming import NAME_TAG, RUN_TAG
from simulator.provision.teardown import TeardownResult, teardown

__all__ = [
    "NAME_TAG",
    "RUN_TAG",
    "ProvisionError",
    "ProvisionedEnvironment",
    "TeardownResult",
    "provision",
    "take_inventory",
    "teardown",
]
