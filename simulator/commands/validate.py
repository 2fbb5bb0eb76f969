"""`simulate validate FILE...`: check findings or events against GuardDuty's model and rules."""

from __future__ import annotations

import argparse

from simulator.validate import Options, load_records, render_json, render_text, summarize, validate_records
from simulator.validate.envelope import GUARDDUTY_SOURCE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="JSON (a finding, an event, a list, a GetFindings response) or JSON lines; - is stdin")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text: one line per problem and a summary (default); json: one document")
    parser.add_argument("--quiet", action="store_true",
                        help="print only the problems that make a finding invalid (no warnings, no summary)")
    parser.add_argument("--allow-retired", action="store_true",
                        help="accept retired finding types with a warning (old findings a responder may still get)")
    parser.add_argument("--shape-only", action="store_true",
                        help="check only the shape against botocore's model, not GuardDuty's semantic rules")
    parser.add_argument("--source", action="append", default=[], metavar="SOURCE",
                        help=f"accept this event source besides {GUARDDUTY_SOURCE} (repeatable)")


def run(args: argparse.Namespace) -> int:
    # Every file is read before anything is printed: unreadable input is exit 2 with one line.
    records = [record for path in args.files for record in load_records(path)]
    options = Options(strict_semantics=not args.shape_only, allow_retired=args.allow_retired,
                      extra_sources=tuple(args.source))
    results = validate_records(records, options)
    if args.format == "json":
        print(render_json(results, quiet=args.quiet))
    else:
        for line in render_text(results, quiet=args.quiet):
            print(line)
    return 1 if summarize(results).invalid else 0
