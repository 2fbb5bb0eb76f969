"""`simulate generate`: GuardDuty findings (or their EventBridge events) as JSON lines.

    simulate generate --type CryptoCurrency:EC2/BitcoinTool.B!DNS --count 5 --seed 7
    simulate generate --all --envelope -o findings.jsonl
    simulate generate --purpose Recon --fuzz hostile --attacks attacks.jsonl

``--count`` is per type. Each type draws from its own stream of the seed, so the findings of a type are
the same whether it is generated alone or with ``--all``. Output is streamed: memory stays flat in
``--count``.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import gc
import os
import random
import secrets
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO

from simulator import catalog
from simulator.errors import InputError, UsageError
from simulator.findings import FindingFactory, wrap_in_envelope
from simulator.findings.clock import iso_seconds, now_ms, parse_iso
from simulator.findings.envelope import envelope_line, event_header, publishing_delay
from simulator.findings.factory import check_account, check_region
from simulator.findings.ids import rng_uuid
from simulator.findings.wire import dumps
from simulator.fuzz._choosers import RandomChooser
from simulator.fuzz._hostile import hostile_variant
from simulator.fuzz._valid import apply_mutations

# With --seed and no --now, findings are dated relative to this instant so a seed reproduces every byte.
REPRODUCIBLE_NOW = "2025-01-01T00:00:00Z"
SPREAD_MS = 86_400_000  # findings of a run are spread over the day before --now
_BATCH = 512


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--type", dest="types", action="append", metavar="TYPE",
                       help="a finding type (repeatable); `simulate list types` shows them")
    which.add_argument("--purpose", metavar="PURPOSE", help="every active type of a threat purpose")
    which.add_argument("--all", action="store_true", help="every active finding type")
    parser.add_argument("--count", default="1", metavar="N", help="findings per type (default 1)")
    parser.add_argument("--seed", metavar="N", help="reproduce a run (default: random, reported on stderr)")
    parser.add_argument("--fuzz", choices=("valid", "hostile"),
                        help="valid: schema-exploring variants; hostile: inputs built to break responders")
    parser.add_argument("--envelope", action="store_true", help="wrap each finding in its EventBridge event")
    parser.add_argument("--account", default="123456789012", metavar="ID", help="account id (12 digits)")
    parser.add_argument("--region", default="us-east-1", metavar="REGION", help="AWS region (default us-east-1)")
    parser.add_argument("--now", metavar="TIME",
                        help=f"ISO-8601 time the findings lead up to (default: now; {REPRODUCIBLE_NOW} "
                             "with --seed, so the output is byte-for-byte reproducible)")
    parser.add_argument("--attacks", metavar="FILE",
                        help="with --fuzz hostile: write what each output line attacks, as JSON lines")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")


def run(args: argparse.Namespace) -> int:
    types = _selected_types(args)
    count = _positive_int(args.count, "--count")
    seed = _seed(args.seed) if args.seed is not None else secrets.randbits(32)
    account = _checked(check_account, args.account, "--account")
    region = _checked(check_region, args.region, "--region")
    anchor_ms = _anchor(args.now, seed_given=args.seed is not None)
    if args.attacks and args.fuzz != "hostile":
        raise UsageError("--attacks labels hostile variants; use it with --fuzz hostile")
    with _open(args.output) as out, _open(args.attacks) as labels:
        if args.seed is None:
            when = iso_seconds(anchor_ms - anchor_ms % 1000)
            print(f"simulate generate: seed {seed} (reproduce with --seed {seed} --now {when})", file=sys.stderr)
            anchor_ms -= anchor_ms % 1000
        lines = _lines(types, count, seed, account, region, anchor_ms, args.fuzz, args.envelope, labels)
        try:
            _write(out, lines)
        except BrokenPipeError:
            # `simulate generate ... | head`: the reader has what it wanted; stop quietly.
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


# --- input --------------------------------------------------------------------------------------------


def _selected_types(args: argparse.Namespace) -> list[str]:
    if args.all:
        return sorted(catalog.active_types())
    if args.purpose:
        return sorted(t.name for t in catalog.types_for_purpose(_purpose(args.purpose)))
    if args.types:
        return [_type(name) for name in args.types]
    raise UsageError("nothing to generate: give --type TYPE, --purpose PURPOSE or --all")


def _type(name: str) -> str:
    known = catalog.active_types()
    if name in known:
        return name
    if name in catalog.retired_types():
        raise InputError(f"finding type {name!r} is retired", field="--type",
                         fix="GuardDuty no longer produces it; --fuzz hostile includes retired types")
    exact = [known_name for known_name in known if known_name.lower() == name.strip().lower()]
    close = exact or difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else "`simulate list types` shows the known types"
    raise InputError(f"unknown finding type {name!r}", field="--type", fix=hint)


def _purpose(name: str) -> str:
    purposes = catalog.threat_purposes()
    if any(name.lower() == known.lower() for known in purposes):
        return name
    close = difflib.get_close_matches(name, list(purposes), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else "`simulate list purposes` shows them"
    raise InputError(f"unknown threat purpose {name!r}", field="--purpose", fix=hint)


def _positive_int(text: str, flag: str) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise InputError(f"{text!r} is not a whole number", field=flag, fix="use an integer of at least 1") from None
    if value < 1:
        raise InputError(f"{value} is less than 1", field=flag, fix="use an integer of at least 1")
    return value


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(f"{text!r} is not an integer", field="--seed", fix="use a whole number such as 7") from None


def _checked(check, value: str, flag: str) -> str:  # type: ignore[no-untyped-def]
    try:
        return str(check(value))
    except InputError as error:
        raise InputError(error.message, field=flag, fix=error.fix) from None


def _anchor(text: str | None, *, seed_given: bool) -> int:
    if text is None:
        return parse_iso(REPRODUCIBLE_NOW) if seed_given else now_ms()
    try:
        return parse_iso(text)
    except ValueError:
        raise InputError(f"{text!r} is not an ISO-8601 time", field="--now",
                         fix="use a time such as 2025-05-01T12:00:00Z") from None


@contextlib.contextmanager
def _open(path: str | None) -> Iterator[IO[str] | None]:
    if path is None:
        yield None
        return
    try:
        handle = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 - closed below
    except OSError as error:
        raise InputError(f"cannot write: {error.strerror or error}", location=path,
                         fix="choose a path in an existing, writable directory") from None
    try:
        yield handle
    finally:
        handle.close()


# --- output -------------------------------------------------------------------------------------------


def _lines(types: list[str], count: int, seed: int, account: str, region: str, anchor_ms: int, fuzz: str | None,
           envelope: bool, labels: IO[str] | None) -> Iterator[str]:
    factory = FindingFactory(account_id=account, region=region, pool_seed=seed)
    line_number = 0
    for type_name in types:
        # One stream per type: a type's findings do not depend on which other types were asked for.
        rng = random.Random(f"{seed}:{type_name}")
        for _ in range(count):
            moment = anchor_ms - int(rng.random() * SPREAD_MS)
            if fuzz == "hostile":
                for line, label in _hostile_lines(rng, type_name, account, region, moment, envelope):
                    line_number += 1
                    if labels is not None:
                        labels.write(dumps({"line": line_number, "type": type_name, **label}) + "\n")
                    yield line
                continue
            if fuzz == "valid":
                finding = factory.finding(type_name, rng=rng, now=_datetime(moment))
                apply_mutations(finding, RandomChooser(rng))
                line = dumps(finding)
            else:
                line = factory.finding_json(type_name, rng=rng, now_epoch_ms=moment)
            if envelope:  # the finding was updated at ``moment``; GuardDuty publishes it a little later
                header = event_header(rng_uuid(rng), account, region, moment + publishing_delay(rng))
                line = envelope_line(line, header)
            line_number += 1
            yield line


def _hostile_lines(rng: random.Random, type_name: str, account: str, region: str, moment: int,
                   envelope: bool) -> Iterator[tuple[str, dict]]:
    hostile = hostile_variant(rng, type_name, account_id=account, region=region, now=_datetime(moment))
    label = {"attack": hostile.attack, "breaks_schema": hostile.breaks_schema, "target": hostile.target,
             "expected": hostile.expected}
    if hostile.events:
        for index, event in enumerate(hostile.events):
            yield dumps(event if envelope else event["detail"]), {**label, "event": index}
        return
    if envelope:
        try:
            parse_iso(hostile.finding["updatedAt"])
            event = wrap_in_envelope(hostile.finding, rng=rng)
        except (KeyError, TypeError, ValueError, AttributeError):
            # No readable updatedAt to publish after: date the event by the run, keeping it reproducible.
            event = wrap_in_envelope(hostile.finding, rng=rng, time=_datetime(moment))
        yield dumps(event), label
    else:
        yield dumps(hostile.finding), label


def _datetime(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


def _write(out: IO[str] | None, lines: Iterator[str]) -> None:
    stream = out if out is not None else sys.stdout
    batch: list[str] = []
    # The generator makes no reference cycles; pausing the cycle collector keeps long runs at full speed.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for line in lines:
            batch.append(line)
            if len(batch) >= _BATCH:
                stream.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            stream.write("\n".join(batch) + "\n")
        stream.flush()
    finally:
        if collecting:
            gc.enable()
