"""The gateway fault hook of a chaos profile: seeded, and deterministic per call sequence.

Whether the k-th matching call of an operation is faulted depends only on the seed, the rule and
(service, operation, k), never on thread timing: a responder that makes the same calls in the same
order meets the same faults. Faults take each service's real wire shape (EC2's XML errors, IAM's query
errors, JSON protocol errors), so SDK retry logic sees them as it would on AWS.
"""

from __future__ import annotations

import fnmatch
import hashlib
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from simulator.chaos.profile import ANY, FaultRule
from simulator.gateway.faults import Fault, RequestInfo
from simulator.gateway.wire_errors import throttling_error

# Access denied as each API family says it (code, HTTP status).
_DENIED = {"ec2": ("UnauthorizedOperation", 403), "sns": ("AuthorizationError", 403),
           "s3": ("AccessDenied", 403), "sqs": ("AccessDenied", 403)}
_DENIED_BY_PROTOCOL = {"query": ("AccessDenied", 403), "rest-xml": ("AccessDenied", 403),
                       "rest-json": ("AccessDeniedException", 403)}
_DEFAULT_DENIED = ("AccessDeniedException", 400)

# Internal errors as each API family says them, by HTTP status (the 500 entry is the default).
_INTERNAL = {"ec2": {500: "InternalError", 503: "Unavailable"}, "iam": {500: "ServiceFailure"},
             "sns": {500: "InternalError"}, "s3": {500: "InternalError", 503: "ServiceUnavailable"}}
_INTERNAL_BY_PROTOCOL = {"query": {500: "InternalFailure", 503: "ServiceUnavailable"},
                         "rest-xml": {500: "InternalError", 503: "ServiceUnavailable"}}
_DEFAULT_INTERNAL = {500: "InternalFailure", 503: "ServiceUnavailableException"}


def denied_error(service: str, protocol: str) -> tuple[str, int]:
    """The (code, status) an IAM policy refusal of a call to ``service`` has on AWS."""
    return _DENIED.get(service) or _DENIED_BY_PROTOCOL.get(protocol) or _DEFAULT_DENIED


def internal_error(service: str, protocol: str, status: int) -> str:
    """The error code of a server-side failure with ``status`` from ``service``."""
    table = _INTERNAL.get(service) or _INTERNAL_BY_PROTOCOL.get(protocol) or _DEFAULT_INTERNAL
    return table.get(status) or table[500]


@dataclass(frozen=True)
class InjectedFault:
    """One fault the hook asked the gateway for: the ``call``-th matching call of the operation."""

    service: str
    operation: str
    call: int
    name: str
    kinds: tuple[str, ...]
    code: str | None = None
    delay_seconds: float = 0.0  # wall seconds

    def key(self) -> tuple[str, str, int, str]:
        return self.service, self.operation, self.call, self.name


def _draw(seed: int, *parts: object) -> float:
    """A uniform [0, 1) number fixed by ``seed`` and ``parts``."""
    digest = hashlib.blake2b("\x1f".join(map(str, (seed, *parts))).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _matches(patterns: Sequence[str], values: Iterable[str]) -> bool:
    values = list(values)
    return any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns for value in values)


class ChaosFaults:
    """A :data:`simulator.gateway.FaultHook`: set ``gateway.fault_hook = ChaosFaults(...)``.

    Latency rules add their delay; the first other rule that fires decides the answer. ``injected``
    lists every fault asked for, in order.
    """

    def __init__(self, rules: Sequence[FaultRule], *, seed: int, time_scale: float = 1.0, env: Any = None,
                 label_of: Callable[[str], str | None] | None = None) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.rules = list(rules)
        self.seed = seed
        self.time_scale = time_scale
        self.label_of = label_of
        self._resources = [self._resource_patterns(rule, env) for rule in self.rules]
        self._lock = threading.Lock()
        self._calls: Counter[tuple[int, str, str]] = Counter()
        self._fired: Counter[tuple[int, str, str]] = Counter()
        self.injected: list[InjectedFault] = []

    @staticmethod
    def _resource_patterns(rule: FaultRule, env: Any) -> tuple[str, ...]:
        patterns: list[str] = []
        for name in rule.resource:
            resources = getattr(env, "resources", None) or {}
            if name in resources and hasattr(env, "ids_of"):
                patterns.extend(sorted(env.ids_of(name)))
            else:
                patterns.append(name)
        return tuple(patterns)

    def __call__(self, info: RequestInfo) -> Fault | None:
        delay = 0.0
        names: list[str] = []
        kinds: list[str] = []
        first_call: int | None = None
        chosen: FaultRule | None = None
        with self._lock:
            for index, rule in enumerate(self.rules):
                if chosen is not None and rule.kind != "latency":
                    continue
                call = self._fires(index, rule, info)
                if call is None:
                    continue
                first_call = call if first_call is None else first_call
                names.append(rule.label)
                kinds.append(rule.kind)
                if rule.kind == "latency":
                    delay += self._latency(index, rule, info, call)
                else:
                    chosen = rule
            if first_call is None:
                return None
            name = "+".join(dict.fromkeys(names))
            fault = self._fault(chosen, info, name) if chosen is not None else Fault.latency(name, delay)
            if chosen is not None and delay:
                fault = Fault(fault.name, delay=delay, reset=fault.reset, status=fault.status, headers=fault.headers,
                              body=fault.body)
            self.injected.append(InjectedFault(info.service, info.operation, first_call, name, tuple(kinds),
                                               _code_of(chosen, info), delay))
            return fault

    # -- decisions --------------------------------------------------------------------------------

    def _applies(self, index: int, rule: FaultRule, info: RequestInfo) -> bool:
        if rule.service and not _matches(rule.service, [info.service]):
            return False
        if rule.operation and not _matches(rule.operation, [info.operation]):
            return False
        if rule.mutating is not None and rule.mutating != info.mutating:
            return False
        if rule.resource and not _matches(self._resources[index], info.resource_ids):
            return False
        if ANY not in rule.callers and self.label_of is not None:
            label = self.label_of(info.caller)
            if label not in rule.callers:
                return False
        return True

    def _fires(self, index: int, rule: FaultRule, info: RequestInfo) -> int | None:
        """The call's number (1-based, per rule and operation) if the rule faults it, else None."""
        if not self._applies(index, rule, info):
            return None
        key = (index, info.service, info.operation)
        self._calls[key] += 1
        call = self._calls[key]
        if call <= rule.after:
            return None
        if rule.times is not None and self._fired[key] >= rule.times:
            return None
        if rule.probability < 1.0 and _draw(self.seed, index, info.service, info.operation, call) >= rule.probability:
            return None
        self._fired[key] += 1
        return call

    def _latency(self, index: int, rule: FaultRule, info: RequestInfo, call: int) -> float:
        runbook = (rule.delay or 0.0) + (rule.jitter or 0.0) * _draw(self.seed, "jitter", index, info.service,
                                                                      info.operation, call)
        return runbook / self.time_scale

    @staticmethod
    def _fault(rule: FaultRule, info: RequestInfo, name: str) -> Fault:
        if rule.kind == "throttle":
            return Fault.throttle(info, name)
        if rule.kind == "reset":
            return Fault.connection_reset(name)
        if rule.kind == "deny":
            code, status = denied_error(info.service, info.protocol)
            message = rule.message or (f"User is not authorized to perform: {info.service}:{info.operation} "
                                       "because no identity-based policy allows it")
            return Fault.error(name, info, rule.code or code, message, status)
        status = rule.status or 500
        code = rule.code or internal_error(info.service, info.protocol, status)
        return Fault.error(name, info, code, rule.message or "We encountered an internal error. Please try again.",
                           status)

    # -- reading back -----------------------------------------------------------------------------

    def signature(self) -> list[tuple[str, str, int, str]]:
        """What was injected, comparable between runs: (service, operation, call number, fault name)."""
        with self._lock:
            return [fault.key() for fault in self.injected]

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(Counter(fault.name for fault in self.injected))


def _code_of(rule: FaultRule | None, info: RequestInfo) -> str | None:
    """The error code the faulted call returns (None for latency and resets)."""
    if rule is None or rule.kind == "reset":
        return None
    if rule.kind == "throttle":
        return throttling_error(info.service, info.protocol)[0]
    if rule.kind == "deny":
        return rule.code or denied_error(info.service, info.protocol)[0]
    return rule.code or internal_error(info.service, info.protocol, rule.status or 500)
