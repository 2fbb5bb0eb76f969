"""Step Functions responders: state machine definitions deployed into the sandbox and run by its interpreter.

A responder written as ``stepfunctions:path/to/flow.asl.json`` is deployed with its ``${...}`` values
filled in (:mod:`.deploy`), started once per event the scenario's rule delivers (:mod:`.run`), and its
Lambda tasks reach the harness's function runtime through the gateway (:mod:`.lambda_bridge`).

Exports load on first use, so observers can import the small naming helpers without boto3 set-up.
"""

from __future__ import annotations

from simulator.lazy_exports import lazy_getattr

_EXPORTS = {
    "STATE_MACHINE_PREFIX": "spec", "is_state_machine_responder": "spec", "state_machine_path": "spec",
    "check_state_machine_responder": "spec",
    "ack_table_name": "names", "ACK_KEY": "names",
    "load_definition": "definition", "substitute": "definition", "placeholders": "definition",
    "task_actions": "definition",
    "Deployment": "deploy", "LevelTiming": "deploy", "deploy_state_machine": "deploy",
    "create_ack_table": "deploy", "ladder_levels": "deploy", "prime_subscriptions": "deploy",
    "warm_interpreter": "deploy",
    "StateMachineResponder": "run", "start_execution": "run", "wait_for_execution": "run",
    "execution_history": "run", "start_responder": "run",
    "LambdaBridge": "lambda_bridge",
}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_getattr(__name__, _EXPORTS)
