"""The progress display: plain lines without control characters off a terminal, a block redrawn in place on one."""

from __future__ import annotations

import io
import re
import threading

from simulator.progress import Progress, is_live_terminal


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_when_not_a_terminal() -> None:
    stream, clock = io.StringIO(), Clock()
    with Progress(stream, total=2, clock=clock) as progress:
        assert not progress.live
        progress.say("[crypto] EC2 instance mining cryptocurrency")
        clock.now += 1.5
        progress.say("provisioning crypto")
        progress.finish("crypto", "pass", "5 of 5 steps met")
    lines = stream.getvalue().splitlines()
    assert lines == [
        "    0.0s  [crypto] started: EC2 instance mining cryptocurrency",
        "    1.5s  [crypto] provisioning crypto",
        "    1.5s  PASS [crypto] 5 of 5 steps met (1.5 s)  [1/2 done]",
    ]
    assert "\x1b" not in stream.getvalue()


def test_messages_from_a_scenario_thread_update_its_own_task() -> None:
    stream = io.StringIO()
    progress = Progress(stream, live=False)

    def scenario(key: str) -> None:
        progress.say(f"[{key}] title of {key}")
        progress.say("observing")

    threads = [threading.Thread(target=scenario, args=(key,)) for key in ("alpha", "beta")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    progress.say("all done")
    progress.close()
    text = stream.getvalue()
    assert "[alpha] observing" in text and "[beta] observing" in text
    assert text.splitlines()[-1].endswith("  all done")  # not tied to a task: a line of its own


def test_failures_are_counted() -> None:
    stream = io.StringIO()
    progress = Progress(stream, total=3, live=False)
    for key, verdict in (("a", "pass"), ("b", "fail"), ("c", "error")):
        progress.begin(key)
        progress.finish(key, verdict)
    assert (progress.done, progress.failed) == (3, 2)
    assert "FAIL [b] fail" in stream.getvalue() and "[3/3 done]" in stream.getvalue()


def test_a_terminal_gets_a_block_redrawn_in_place_and_cleared_at_the_end() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, total=2, live=True, refresh_seconds=60, clock=clock)
    progress.begin("crypto", "EC2 instance mining cryptocurrency")
    progress.update("crypto", "observing")
    progress.finish("crypto", "fail", "2 of 5 steps unmet")
    progress.close()
    out = stream.getvalue()
    assert "\x1b[2F\x1b[J" in out  # back to the block's first line and erase (task line + summary line)
    assert "[crypto]   0.0s  observing" in out
    assert "✘ [crypto] 2 of 5 steps unmet (0.0 s)  [1/2 done]" in out
    # Replaying the cursor moves leaves exactly the permanent lines on screen.
    screen: list[str] = []
    for chunk in re.split(r"(\x1b\[\d+F\x1b\[J)", out):
        match = re.fullmatch(r"\x1b\[(\d+)F\x1b\[J", chunk)
        if match:
            del screen[len(screen) - int(match.group(1)):]
        else:
            screen += chunk.splitlines()
    assert screen == ["    0.0s  ✘ [crypto] 2 of 5 steps unmet (0.0 s)  [1/2 done]"]


def test_disabled_progress_prints_nothing() -> None:
    stream = io.StringIO()
    progress = Progress(stream, enabled=False)
    progress.say("[x] y")
    progress.finish("x", "pass")
    progress.close()
    assert stream.getvalue() == ""


def test_a_string_buffer_is_not_a_live_terminal() -> None:
    assert not is_live_terminal(io.StringIO())
