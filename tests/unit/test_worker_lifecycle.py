"""Bad handler specs are refused before any event, and no worker outlives the harness."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from simulator.delivery.handler_spec import parse_handler_spec
from simulator.delivery.runtime import FunctionRuntime
from simulator.errors import InputError
from simulator.paths import PROJECT_ROOT
from simulator.targets.base import Credentials

CREDENTIALS = Credentials("AKIAFUNCTIONTEST0001", "secret")


def runtime_for(handler: str, **extra: object) -> FunctionRuntime:
    return FunctionRuntime(handler, env=dict(extra.pop("env", {})),  # type: ignore[arg-type]
                           endpoint_url=None, credentials=CREDENTIALS, region="us-east-1", **extra)  # type: ignore[arg-type]


def gone(pid: int, within: float = 5.0) -> bool:
    """Whether ``pid`` disappears (or becomes a zombie of someone else) within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(")")[-1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("spec, words", [
    ("no_colon_here", "is not MODULE:FUNCTION"),
    ("module:", "is not MODULE:FUNCTION"),
    ("responders.crypto:not-a-name", "is not a function name"),
    ("bad module:handler", "is not a module name"),
    ("missing/file.py:handler", "does not exist"),
])
def test_malformed_specs_are_refused_at_once(spec: str, words: str) -> None:
    with pytest.raises(InputError) as caught:
        runtime_for(spec)
    message = caught.value.render()
    assert words in message
    assert spec in message
    assert "responder.handler" in message


def test_module_specs_resolve_from_the_project_root_and_files_become_absolute(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mine.py").write_text("def handler(e, c):\n    return 1\n")
    monkeypatch.chdir(tmp_path)

    assert parse_handler_spec("responders.crypto:handler").module == "responders.crypto"
    assert parse_handler_spec("mine.py:handler").path == tmp_path / "mine.py"


@pytest.mark.parametrize("source, spec_function, words", [
    ("import does_not_exist_anywhere\n", "handler", "No module named 'does_not_exist_anywhere'"),
    ("def handler(e, c) return 1\n", "handler", "SyntaxError"),
    ("def other(e, c):\n    return 1\n", "handler", "has no function 'handler'"),
    ("raise RuntimeError('cannot start')\n", "handler", "RuntimeError: cannot start"),
    ("import sys\nsys.exit(4)\n", "handler", "exited while importing it (status 4)"),
])
def test_import_failures_are_reported_at_start_naming_the_spec(tmp_path: Path, source: str, spec_function: str,
                                                               words: str) -> None:
    (tmp_path / "broken.py").write_text(source)
    spec = f"{tmp_path / 'broken.py'}:{spec_function}"
    runtime = runtime_for(spec)

    with pytest.raises(InputError) as caught:
        runtime.start()

    assert words in caught.value.render()
    assert spec in caught.value.render()
    assert runtime.invocations == []


def test_missing_module_is_reported_at_start() -> None:
    with pytest.raises(InputError, match=r"nowhere_to_be_found:handler.*No module named"):
        runtime_for("nowhere_to_be_found:handler").start()


def test_reserved_variables_cannot_be_overridden_by_the_scenario() -> None:
    with pytest.raises(InputError, match="AWS_ENDPOINT_URL is set by the function runtime"):
        runtime_for("responders.crypto:handler", env={"AWS_ENDPOINT_URL": "http://elsewhere"})


def test_the_reference_responder_starts_in_a_worker_and_creates_no_client_at_import() -> None:
    runtime = runtime_for("responders.crypto:handler")
    runtime.start()
    try:
        assert runtime.worker_pid is not None
    finally:
        runtime.stop()
    check = ("import responders.crypto, responders.lib.aws as aws; "
             "assert aws._clients == {}, 'client built at import'")
    completed = subprocess.run([sys.executable, "-c", check], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr


HARNESS = """
    import os, sys, time
    from simulator.delivery.runtime import FunctionRuntime
    from simulator.targets.base import Credentials

    runtime = FunctionRuntime({handler!r}, env={{}}, endpoint_url=None,
                              credentials=Credentials("AKIA0000000000000000", "s"), region="us-east-1")
    runtime.start()
    runtime.submit({{"sleep": 600}})
    while not runtime.invocations and runtime.worker_pid is None:
        time.sleep(0.01)
    print(runtime.worker_pid, flush=True)
    sys.stdin.readline()
    {ending}
"""

SLEEPY = "import time\n\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n"


@pytest.mark.parametrize("ending", ["raise KeyboardInterrupt", "time.sleep(600)"])
def test_no_worker_survives_the_harness(tmp_path: Path, ending: str) -> None:
    (tmp_path / "sleepy.py").write_text(SLEEPY)
    script = textwrap.dedent(HARNESS).format(handler=f"{tmp_path / 'sleepy.py'}:handler", ending=ending)
    harness = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
    assert harness.stdin is not None and harness.stdout is not None and harness.stderr is not None
    worker_pid = int(harness.stdout.readline())
    assert not gone(worker_pid, within=0.2)

    if ending.startswith("time.sleep"):
        harness.kill()  # no atexit, no finally: the worker must notice on its own
    else:
        harness.stdin.write("go\n")
        harness.stdin.flush()
    harness.wait(timeout=30)

    if ending.startswith("raise"):
        # atexit killed and reaped it before the interpreter exited: gone already, no grace period.
        assert not Path(f"/proc/{worker_pid}").exists()
        assert "KeyboardInterrupt" in harness.stderr.read()
    else:
        assert gone(worker_pid)


def test_a_handler_ignores_the_terminal_interrupt(tmp_path: Path) -> None:
    (tmp_path / "sleepy.py").write_text(SLEEPY)
    runtime = runtime_for(f"{tmp_path / 'sleepy.py'}:handler", timeout_seconds=30.0)
    with runtime:
        pid = runtime.worker_pid
        assert pid is not None
        os.killpg(pid, signal.SIGINT)  # what Ctrl-C would send if the worker shared our terminal group
        assert runtime.invoke({}).outcome == "ok"
        assert runtime.invocations[0].worker_pid == pid
