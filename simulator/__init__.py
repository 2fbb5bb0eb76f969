"""gdsim: incident-response testing and chaos simulation for Amazon GuardDuty responders."""

__version__ = "0.3.0"
