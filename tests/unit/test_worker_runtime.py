"""The function runtime runs handlers like Lambda: separate warm process, context, timeout, retries."""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.delivery.runtime import FunctionRuntime
from simulator.targets.base import Credentials

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "responders"
CREDENTIALS = Credentials("AKIAFUNCTIONTEST0001", "secret-of-the-responder")
# Lambda's 60 s and 120 s retry waits become 10 ms and 20 ms.
FAST = 6000.0


def write_handler(folder: Path, body: str, name: str = "handler_under_test.py") -> str:
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return f"{path}:handler"


def make_runtime(handler: str, **overrides: object) -> FunctionRuntime:
    options: dict[str, object] = {
        "env": {"ONCALL_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:oncall"},
        "endpoint_url": "http://127.0.0.1:9",
        "credentials": CREDENTIALS,
        "region": "eu-west-1",
        "account_id": "210987654321",
        "timeout_seconds": 10.0,
        "time_scale": FAST,
        "function_name": "crypto-responder",
    }
    options.update(overrides)
    return FunctionRuntime(handler, **options)  # type: ignore[arg-type]


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child we did not reap would still "exist"; the runtime reaps, so a zombie is a failure too.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"


ECHO = """
    import json, logging, os, sys
    print("imported")

    def handler(event, context):
        print("event", json.dumps(event))
        sys.stderr.write("to stderr\\n")
        os.write(1, b"raw bytes on fd 1\\n")
        logging.getLogger().warning("a warning")
        return {
            "pid": os.getpid(),
            "event": event,
            "request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "arn": context.invoked_function_arn,
            "memory": context.memory_limit_in_mb,
            "log_group": context.log_group_name,
            "log_stream": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(),
            "env": {k: os.environ.get(k) for k in (
                "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
                "AWS_REGION", "GDSIM_TIME_SCALE", "ONCALL_TOPIC_ARN", "AWS_PROFILE")},
        }
"""


@pytest.fixture
def echo_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FunctionRuntime]:
    monkeypatch.setenv("AWS_PROFILE", "the-harness-own-profile")
    runtime = make_runtime(write_handler(tmp_path, ECHO)).start()
    yield runtime
    runtime.stop()


def test_handler_runs_in_a_separate_process_with_a_lambda_context(echo_runtime: FunctionRuntime) -> None:
    invocation = echo_runtime.invoke({"detail": {"id": "f-1"}, "id": "ev-1"})

    assert invocation.outcome == "ok", invocation.error
    result = invocation.result
    assert result["pid"] != os.getpid()
    assert result["pid"] == invocation.worker_pid
    assert result["event"] == {"detail": {"id": "f-1"}, "id": "ev-1"}
    assert (invocation.event_id, invocation.finding_id) == ("ev-1", "f-1")
    assert result["request_id"] == invocation.request_id
    assert result["function_name"] == "crypto-responder"
    assert result["function_version"] == "$LATEST"
    assert result["arn"] == "arn:aws:lambda:eu-west-1:210987654321:function:crypto-responder"
    assert result["memory"] == "128"
    assert result["log_group"] == "/aws/lambda/crypto-responder"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", result["log_stream"])
    assert 0 < result["remaining"] <= 10_000


def test_handler_gets_its_own_identity_and_endpoint_and_nothing_of_the_harness(
        echo_runtime: FunctionRuntime) -> None:
    env = echo_runtime.invoke({}).result["env"]

    assert env == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": CREDENTIALS.access_key_id,
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS.secret_access_key,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "GDSIM_TIME_SCALE": repr(FAST),
        "ONCALL_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:oncall",
        "AWS_PROFILE": None,
    }


def test_output_is_captured_as_logs_without_breaking_the_protocol(echo_runtime: FunctionRuntime) -> None:
    first = echo_runtime.invoke({"n": 1})
    second = echo_runtime.invoke({"n": 2})

    assert first.outcome == second.outcome == "ok"
    assert first.logs.startswith("imported\n")  # init output belongs to the cold invocation
    assert "imported" not in second.logs
    assert 'event {"n": 2}' in second.logs
    assert "to stderr" in second.logs
    assert re.search(rf"\[WARNING\]\t\S+Z\t{second.request_id}\ta warning", second.logs)


def test_warm_worker_is_reused_and_only_the_first_start_is_cold(echo_runtime: FunctionRuntime) -> None:
    invocations = [echo_runtime.invoke({"n": n}) for n in range(3)]

    assert [i.cold for i in invocations] == [True, False, False]
    assert len({i.result["pid"] for i in invocations}) == 1
    assert invocations[0].init_ms is not None and invocations[1].init_ms is None


def test_recycle_makes_the_next_start_cold_in_a_new_process(echo_runtime: FunctionRuntime) -> None:
    before = echo_runtime.invoke({})
    echo_runtime.recycle()
    after = echo_runtime.invoke({})

    assert after.cold
    assert after.result["pid"] != before.result["pid"]
    assert not process_exists(before.result["pid"])


SLEEPER = """
    import os, time

    def handler(event, context):
        print("started", os.getpid())
        if event.get("sleep"):
            time.sleep(event["sleep"])
        return os.getpid()
"""


def test_timeout_kills_the_worker_and_the_next_start_is_cold(tmp_path: Path) -> None:
    with make_runtime(write_handler(tmp_path, SLEEPER), timeout_seconds=0.5) as runtime:
        stuck = runtime.invoke({"sleep": 60})
        stuck_pid = stuck.worker_pid
        assert stuck_pid is not None
        assert stuck.outcome == "timeout"
        assert stuck.error is not None and stuck.error["errorType"] == "Sandbox.Timedout"
        assert "started" in stuck.logs  # logs written before the kill are kept
        assert not process_exists(stuck_pid)

        following = runtime.invoke({})
        assert following.outcome == "ok"
        assert following.cold
        assert following.result != stuck_pid


def test_async_failure_is_retried_twice_then_dead_lettered() -> None:
    with make_runtime(f"{FIXTURES / 'raises.py'}:handler") as runtime:
        request_id = runtime.submit({"id": "ev-9", "detail": {"id": "finding-9"}})
        assert runtime.wait_idle(timeout=30)

    assert [i.attempt for i in runtime.invocations] == [1, 2, 3]
    assert {i.request_id for i in runtime.invocations} == {request_id}
    assert all(i.outcome == "error" for i in runtime.invocations)
    assert len(runtime.dead_letters) == 1
    dead = runtime.dead_letters[0]
    assert (dead.request_id, dead.event_id, dead.finding_id, dead.attempts) == (
        request_id, "ev-9", "finding-9", 3)
    assert dead.condition == "RetriesExhausted"
    assert dead.error is not None
    assert dead.error["errorType"] == "ResponderBroken"
    assert dead.error["errorMessage"] == "this responder always fails"
    assert any("raise ResponderBroken" in line for line in dead.error["stackTrace"])


def test_async_timeouts_are_retried_and_dead_lettered_too(tmp_path: Path) -> None:
    with make_runtime(write_handler(tmp_path, SLEEPER), timeout_seconds=0.3, max_retries=1) as runtime:
        runtime.submit({"sleep": 60})
        assert runtime.wait_idle(timeout=30)

    assert [i.outcome for i in runtime.invocations] == ["timeout", "timeout"]
    assert runtime.dead_letters[0].error["errorType"] == "Sandbox.Timedout"  # type: ignore[index]


def test_a_retry_that_succeeds_is_not_dead_lettered(tmp_path: Path) -> None:
    marker = tmp_path / "failed-once"
    handler = write_handler(tmp_path, f"""
        from pathlib import Path

        def handler(event, context):
            marker = Path({str(marker)!r})
            if not marker.exists():
                marker.write_text("x")
                raise RuntimeError("transient")
            return "second time lucky"
    """)
    with make_runtime(handler) as runtime:
        runtime.submit({})
        assert runtime.wait_idle(timeout=30)

    assert [(i.attempt, i.outcome) for i in runtime.invocations] == [(1, "error"), (2, "ok")]
    assert runtime.invocations[1].result == "second time lucky"
    assert runtime.dead_letters == []


def test_crash_and_unserialisable_results_are_errors_not_harness_failures(tmp_path: Path) -> None:
    handler = write_handler(tmp_path, """
        import os

        def handler(event, context):
            if event == "crash":
                os._exit(7)
            if event == "exit":
                raise SystemExit(3)
            return {1, 2}
    """)
    with make_runtime(handler) as runtime:
        crashed = runtime.invoke("crash")
        exited = runtime.invoke("exit")
        unserialisable = runtime.invoke("set")

    assert crashed.outcome == "error" and crashed.error is not None
    assert crashed.error["errorType"] == "Runtime.ExitError"
    assert "status 7" in crashed.error["errorMessage"]
    assert exited.cold  # the crash took the worker with it
    assert exited.error is not None and exited.error["errorType"] == "Runtime.ExitError"
    assert unserialisable.error is not None and unserialisable.error["errorType"] == "Runtime.MarshalError"


def test_stop_is_idempotent_and_leaves_no_process(echo_runtime: FunctionRuntime) -> None:
    pid = echo_runtime.invoke({}).worker_pid
    assert pid is not None and process_exists(pid)

    echo_runtime.stop()
    echo_runtime.stop()

    assert not process_exists(pid)
    with pytest.raises(RuntimeError):
        echo_runtime.invoke({})


def test_invocations_are_reported_to_the_listener(tmp_path: Path) -> None:
    seen: list[str] = []
    with make_runtime(write_handler(tmp_path, SLEEPER), on_invocation=lambda i: seen.append(i.outcome)) as rt:
        rt.invoke({})
        rt.submit({})
        assert rt.wait_for_invocations(2, timeout=30)

    assert seen == ["ok", "ok"]
