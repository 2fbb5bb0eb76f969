"""`simulate ack FINDING`: a person acknowledges a finding of a running game day, so the escalation ladder
stops before paging the next level."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from simulator.errors import UsageError
from simulator.paths import REPORTS_DIR


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("finding", metavar="FINDING",
                        help="the finding's id (a unique prefix is enough) or its key on the scoreboard (F2)")
    parser.add_argument("--by", metavar="NAME", help="who acknowledges (default: your user name)")
    parser.add_argument("--level", type=int, metavar="N",
                        help="the level whose page you take (default: the last level paged, or 1)")
    parser.add_argument("--gameday", type=Path, metavar="DIR",
                        help="the running game day's report folder (default: the latest running game day)")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "on-call"


def run(args: argparse.Namespace) -> int:
    from simulator.gameday.ack import acknowledge

    if args.level is not None and args.level < 1:
        raise UsageError(f"--level {args.level}: levels start at 1")
    by = (args.by or _user()).strip()
    if not by:
        raise UsageError("--by: give a name")
    done = acknowledge(args.finding, by=by, pointer_dir=REPORTS_DIR, gameday=args.gameday, level=args.level)
    contact = f" ({done.contact})" if done.contact else ""
    print(f"acknowledged {done.key} {done.scenario} (finding {done.finding_id}) at level {done.level}{contact} "
          f"as {done.by}")
    if done.next_level is not None:
        print(f"the escalation ladder reads this before paging level {done.next_level}: "
              f"nobody above level {done.level} is paged")
    return 0
