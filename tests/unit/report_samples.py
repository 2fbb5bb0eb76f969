"""A realistic run to render: the crypto scenario with one step met, one late, one missing; a chaos fault, an API
error, a page, a broken invariant; and secrets in parameters, logs and errors that no report may print."""

from __future__ import annotations

import json

from simulator.delivery.runtime import Invocation
from simulator.gateway.journal import Journal, JournalEntry
from simulator.reports import RunReport, ScenarioResult
from simulator.scenario import load_scenario
from simulator.verdicts import Invariant, StepVerdict

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = ("IQoJb3JpZ2luX2VjEHAaCXVzLWVhc3QtMSJHMEUCIQD6Gh7Z2Zb0dF9vQk3n8u1pT6sW4kRr5yXcA0mB9zL2aQIgV8s"
                 "Wq1eT3nLx7KjR0pZy4mHc2bFd6gUo9iE5tAvN1sqmgIIdBAAGgw5MDk0NzU3MjM0NTYiDPx7")
PASSWORD = "Correct-Horse-Battery-9"
SIGNATURE = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
SECRETS = (SECRET_KEY, SESSION_TOKEN, PASSWORD, SIGNATURE)

INJECTED = 1000.0
TIME_SCALE = 60.0
FINDING = {"id": "a1b2c3d4e5f60718293a4b5c6d7e8f90", "type": "CryptoCurrency:EC2/BitcoinTool.B!DNS"}
INSTANCE = "i-0abc123def4567890"
RESPONDER_KEY = "AKIAIOSFODNN7EXAMPLE"
ONCALL_ARN = "arn:aws:sns:us-east-1:123456789012:gdsim-run-ir-oncall"
PAGER_ARN = "arn:aws:sns:us-east-1:123456789012:gdsim-run-pager"


def _entry(wall_after: float, service: str, operation: str, *, params: dict | None = None,
           resources: tuple[str, ...] = (), status: int = 200, error_code: str | None = None,
           fault: str | None = None, mutating: bool = False) -> JournalEntry:
    mono = INJECTED + wall_after
    return JournalEntry(seq=0, mono=mono, mono_start=mono - 0.01, wall=1_700_000_000 + wall_after, service=service,
                        operation=operation, region="us-east-1", caller=RESPONDER_KEY, resource_ids=resources,
                        params=params or {}, status=status, error_code=error_code, fault=fault, mutating=mutating)


def sample_journal() -> Journal:
    journal = Journal()
    journal.label_caller(RESPONDER_KEY, "responder")
    for entry in [
        _entry(0.20, "ec2", "DescribeInstances", params={"InstanceIds": [INSTANCE]}, resources=(INSTANCE,)),
        _entry(0.30, "sns", "Publish", params={"TopicArn": ONCALL_ARN, "Message": json.dumps(
            {"finding_id": FINDING["id"]})}, resources=(ONCALL_ARN,), mutating=True),
        _entry(0.50, "ec2", "ModifyInstanceAttribute", params={"InstanceId": INSTANCE, "Groups": ["sg-1"]},
               resources=(INSTANCE,), status=503, error_code="RequestLimitExceeded", fault="throttle",
               mutating=True),
        _entry(0.80, "lambda", "UpdateFunctionConfiguration", status=403, error_code="AccessDenied", mutating=True,
               params={"FunctionName": "ir", "Environment": {"Variables": {
                   "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_SESSION_TOKEN": SESSION_TOKEN,
                   "DB_PASSWORD": PASSWORD}}}),
        _entry(16.0, "ec2", "ModifyInstanceAttribute", params={"InstanceId": INSTANCE, "Groups": ["sg-1"]},
               resources=(INSTANCE,), mutating=True),
        _entry(16.5, "iam", "CreateLoginProfile", params={"UserName": "deploy-user", "Password": PASSWORD},
               resources=("deploy-user",), mutating=True),
        _entry(17.0, "sns", "Publish", params={"TopicArn": PAGER_ARN, "Message": json.dumps(
            {"level": 1, "contact": "ir-oncall-primary", "finding_id": FINDING["id"], "reason": "stop failed"})},
               resources=(PAGER_ARN,), mutating=True),
        _entry(17.2, "ec2", "CreateSnapshot", params={"VolumeId": "vol-1"}, resources=("vol-1",), mutating=True),
    ]:
        journal.append(entry)
    return journal


def sample_invocations() -> list[Invocation]:
    logs = (f"starting\nusing aws_secret_access_key={SECRET_KEY}\n"
            f"Authorization: AWS4-HMAC-SHA256 Credential={RESPONDER_KEY}/20240101/us-east-1/ec2/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature={SIGNATURE}\n")
    return [
        Invocation(request_id="req-1", event_id="ev-1", finding_id=FINDING["id"], attempt=1, cold=True,
                   started_mono=INJECTED + 0.05, ended_mono=INJECTED + 17.5, outcome="error",
                   error={"errorType": "ClientError", "errorMessage": f"login failed for password={PASSWORD}"},
                   logs=logs, received_mono=INJECTED + 0.01),
    ]


def sample_steps() -> list[StepVerdict]:
    return [
        StepVerdict("notify", 300.0, 18.0, 0.3, "met", title="Notify the IR on-call", kind="notification_delivered",
                    sla_text="5m", source="journal", operation="Publish"),
        StepVerdict("quarantine", 900.0, 960.0, 16.0, "late", title="Isolate the instance from the network",
                    kind="instance_quarantined", sla_text="15m", source="journal",
                    operation="ModifyInstanceAttribute"),
        StepVerdict("revoke-credentials", 900.0, None, None, "missing", title="Revoke the instance role's credentials",
                    kind="role_credentials_revoked", sla_text="15m", detail="role web-role still honours its sessions"),
        StepVerdict("snapshot", 1800.0, 1032.0, 17.2, "met", title="Snapshot every volume for forensics",
                    kind="volumes_snapshotted", sla_text="30m", source="journal", operation="CreateSnapshot"),
        StepVerdict("stop", 3600.0, None, None, "missing", title="Stop the instance", kind="instance_stopped",
                    sla_text="1h", detail=f"{INSTANCE} is running"),
    ]


def sample_invariants() -> list[Invariant]:
    return [
        Invariant("blast_radius", False, "1 change outside the finding's blast radius",
                  ("deploy-user: CreateLoginProfile by the responder",)),
        Invariant("no_unhandled_errors", False, f"1 invocation failed: ClientError: password={PASSWORD}"),
        Invariant("remediated_or_escalated", True, "1 finding(s) remediated or escalated"),
        Invariant("no_duplicate_side_effects", True, "2 side effect(s), none repeated"),
    ]


def failing_result() -> ScenarioResult:
    return ScenarioResult.build(
        scenario=load_scenario("crypto"), findings=[FINDING], steps=sample_steps(), invariants=sample_invariants(),
        invocations=sample_invocations(), journal=sample_journal(), seed=7, time_scale=TIME_SCALE,
        responder="examples/my_responder.py:handler", observed_for_wall_seconds=90.0, injected_mono=INJECTED)


def passing_result() -> ScenarioResult:
    steps = [StepVerdict(step.id, step.sla_seconds, 20.0, 20.0 / TIME_SCALE, "met", title=step.title, kind=step.kind,
                         sla_text=step.sla_text, source="poll") for step in sample_steps()]
    invariants = [Invariant(inv.id, True, "held") for inv in sample_invariants()]
    # A second scenario of the run, so ids differ as they do in `run --all`.
    scenario = load_scenario("crypto").model_copy(update={"id": "crypto-again"})
    return ScenarioResult.build(scenario=scenario, findings=[FINDING], steps=steps,
                                invariants=invariants, seed=7, time_scale=TIME_SCALE, injected_mono=INJECTED,
                                observed_for_wall_seconds=0.4)


def sample_report(*results: ScenarioResult) -> RunReport:
    chosen = list(results) or [failing_result(), passing_result()]
    return RunReport(run_id="gdsim-20240101T000000-abcd", target="moto", time_scale=TIME_SCALE, seed=7,
                     scenarios=chosen, started_at="2024-01-01T00:00:00+00:00",
                     responder="examples/my_responder.py:handler")
