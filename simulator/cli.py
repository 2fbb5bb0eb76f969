"""The ``simulate`` command line: dispatches to one module per subcommand in simulator.commands."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Sequence

from simulator.errors import GdsimError

# subcommand -> (module in simulator.commands exposing add_arguments(parser) and run(args) -> int, help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run scenarios (the default when no subcommand is given)"),
    "list": ("listing", "list scenarios, finding types, threat purposes or chaos profiles"),
    "generate": ("generate", "generate GuardDuty findings as JSON lines"),
    "validate": ("validate", "validate findings or events (JSON, JSON lines, GetFindings responses)"),
    "storm": ("storm", "a finding storm: one scenario fanned out at N findings per second, with latency percentiles"),
    "gameday": ("gameday", "a game day: a plan's findings at their times, a live scoreboard, an after-action report"),
    "ack": ("ack", "acknowledge a finding of a running game day (the escalation ladder stops paging)"),
}


class _FirstInterruptOnly:
    """Ctrl-C once stops the run; pressing it again while the sandbox is cleaned up cannot cut that short."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, _signum: int, _frame: object) -> None:
        self.count += 1
        if self.count == 1:
            raise KeyboardInterrupt
        sys.stderr.write("simulate: still cleaning up the sandbox, please wait\n")


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad flags as one line and exit 2, without the usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``command`` only that subcommand's module is imported (fast start-up)."""
    parser = _Parser(
        prog="simulate",
        description="Test GuardDuty responders against runbook SLAs. "
        "`simulate --scenario NAME` is short for `simulate run --scenario NAME`.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if command in (None, name):
            module = importlib.import_module(f"simulator.commands.{module_name}")
            module.add_arguments(sub)
            sub.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] == "--version":
        from simulator import __version__

        print(f"simulate (gdsim) {__version__}")
        return 0
    if args_list and args_list[0] in ("-h", "--help"):
        build_parser().print_help()
        return 0
    # `simulate --scenario crypto` is the main job: no subcommand means `run`.
    if not args_list or args_list[0] not in SUBCOMMANDS:
        args_list.insert(0, "run")
    parser = build_parser(args_list[0])
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exit_request:  # --help, or a bad flag already reported on one line
        return int(exit_request.code or 0)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, _FirstInterruptOnly()) if in_main_thread else None
    try:
        return int(args.handler(args))
    except GdsimError as exc:
        print(f"simulate: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("simulate: interrupted; sandbox cleaned up", file=sys.stderr)
        return 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":
    sys.exit(main())
