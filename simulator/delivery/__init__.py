"""Injection and delivery: EventBridge rule -> SQS -> function runtime -> responder process.

Exports load on first use: the worker process imports this package and should not pay for boto3
before the handler itself asks for it.
"""

from __future__ import annotations

from simulator.lazy_exports import lazy_getattr

_EXPORTS = {
    "DeliveryRoute": "rules", "install_rule": "rules", "remove_rule": "rules", "warm_delivery": "rules",
    "Injection": "inject", "InjectionError": "inject", "inject_event": "inject",
    "reconcile_event": "reconcile",
    "FunctionRuntime": "runtime", "Invocation": "runtime", "DeadLetter": "runtime",
    "LambdaContext": "context",
    "HandlerSpec": "handler_spec", "parse_handler_spec": "handler_spec",
}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_getattr(__name__, _EXPORTS)
