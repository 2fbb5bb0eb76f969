"""The gateway between responders and the sandbox: API journal, fault injection, and the APIs no emulator has
(CloudTrail LookupEvents, GuardDuty findings)."""

from simulator.gateway.faults import Fault, FaultHook, RequestInfo
from simulator.gateway.findings_store import FindingsStore
from simulator.gateway.journal import Journal, JournalEntry
from simulator.gateway.local import ApiError, LocalResponse
from simulator.gateway.protocols import CallInfo, WireRequest, is_mutating
from simulator.gateway.proxy import Gateway

__all__ = [
    "ApiError",
    "CallInfo",
    "Fault",
    "FaultHook",
    "FindingsStore",
    "Gateway",
    "Journal",
    "JournalEntry",
    "LocalResponse",
    "RequestInfo",
    "WireRequest",
    "is_mutating",
]
