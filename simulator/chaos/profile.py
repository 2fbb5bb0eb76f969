"""Chaos profiles as data: gateway faults and delivery anomalies, read from YAML and validated field by field.

A profile names the faults the gateway injects into the responder's API calls (by service, operation,
resource and probability) and the anomalies of finding delivery (drop, delay, duplicate, reorder, burst).
Every duration is runbook time, so a profile means the same at any ``--time-scale``. The format is
described in ``chaos/README.md``; built-in profiles live in ``chaos/`` and are selected by name.
"""

from __future__ import annotations

import random
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from simulator import paths
from simulator.errors import LocatedProblems
from simulator.scenario.durations import DURATION_HINT, format_duration, parse_duration
from simulator.scenario.issues import display_path, format_path
from simulator.scenario.loader import Located
from simulator.yamlfiles import FileKind

FAULT_KINDS = ("throttle", "error", "latency", "reset", "deny")
# The system under test: a handler's own calls, and a state machine's service tasks (the emulator's calls).
DEFAULT_CALLERS = ("responder", "stepfunctions")
ANY = "any"


def chaos_dir() -> Path:
    """The folder of built-in profiles (read when asked, so GDSIM_HOME set by a test applies)."""
    return paths.PROJECT_ROOT / "chaos"


class ChaosProfileError(LocatedProblems):
    """One or more problems in a chaos profile file; one located line per problem."""


def _error(message: str, fix: str = "") -> PydanticCustomError:
    # User text may hold braces, which pydantic's message templates would read as placeholders.
    return PydanticCustomError("chaos", message.replace("{", "{{").replace("}", "}}"), {"fix": fix})


# ---------------------------------------------------------------- value types


def _seconds(value: Any) -> float:
    if isinstance(value, int | float):  # bools too: a duration needs its unit
        raise _error(f"{value!r} has no unit", DURATION_HINT)
    if not isinstance(value, str):
        raise _error(f"{value!r} is not a duration", DURATION_HINT)
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise _error(str(exc), DURATION_HINT) from None


Seconds = Annotated[float, BeforeValidator(_seconds)]
"""Runbook seconds, written as a duration ("90s", "2m")."""


def _names(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(value)
    return value


Names = Annotated[tuple[str, ...], BeforeValidator(_names)]
"""One name or a list of names; each may be a glob pattern (``Create*``)."""

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- gateway faults


_KIND_FIELDS: dict[str, frozenset[str]] = {
    "throttle": frozenset(),
    "error": frozenset({"status", "code", "message"}),
    "latency": frozenset({"delay", "jitter"}),
    "reset": frozenset(),
    "deny": frozenset({"code", "message"}),
}


class FaultRule(_Model):
    """Which responder calls get which fault.

    A call matches when its service, operation, resource and caller match (an absent filter matches
    all). Of the matching calls of each operation, the first ``after`` pass untouched; each later one is
    faulted with ``probability``, at most ``times`` times per operation.
    """

    kind: Literal["throttle", "error", "latency", "reset", "deny"]
    name: str | None = Field(None, description="the fault's name in the journal and reports; default: the kind")
    service: Names = Field((), description="services as the journal names them: ec2, iam, sns...")
    operation: Names = Field((), description="API operations, e.g. CreateSnapshot or Create*")
    resource: Names = Field((), description="logical names from the scenario, or ids/ARNs (globs allowed)")
    callers: Names = Field(DEFAULT_CALLERS, description="caller labels; 'any' for every caller; "
                                                       "default: the responder's calls")
    mutating: bool | None = Field(None, description="true: only calls that change something; false: only reads")
    probability: Probability = 1.0
    after: int = Field(0, ge=0, description="matching calls of each operation let through first")
    times: int | None = Field(None, ge=1, description="at most this many faults per operation")
    delay: Seconds | None = Field(None, description="latency: added to each call, runbook time")
    jitter: Seconds | None = Field(None, description="latency: up to this much more, drawn per call")
    status: int | None = Field(None, description="error: 500, 502, 503 or 504 (default 500)")
    code: str | None = Field(None, description="error/deny: the AWS error code (default: the service's own)")
    message: str | None = None

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> FaultRule:
        given = {name for name in ("delay", "jitter", "status", "code", "message") if getattr(self, name) is not None}
        foreign = sorted(given - _KIND_FIELDS[self.kind])
        if foreign:
            owners = {field: [k for k, fields in _KIND_FIELDS.items() if field in fields] for field in foreign}
            where = "; ".join(f"{field} belongs to {' and '.join(owners[field])}" for field in foreign)
            raise _error(f"a {self.kind} fault takes no {', '.join(foreign)}", f"remove it ({where})")
        if self.kind == "latency" and not self.delay:
            raise _error("a latency fault needs a delay", "write delay: 2s")
        if self.status is not None and self.status not in (500, 502, 503, 504):
            raise _error(f"status {self.status} is not a server error", "use 500, 502, 503 or 504")
        return self

    @property
    def label(self) -> str:
        return self.name or self.kind

    def describe(self) -> str:
        spread = f" +0-{format_duration(self.jitter)}" if self.jitter else ""
        what = {"throttle": "throttle", "error": f"{self.status or 500} error", "reset": "connection reset",
                "deny": "access denied"}.get(self.kind) or f"+{format_duration(self.delay or 0)}{spread} latency"
        scope = ["/".join(self.service), "/".join(self.operation),
                 {True: "writes", False: "reads", None: ""}[self.mutating],
                 f"on {'/'.join(self.resource)}" if self.resource else ""]
        target = " ".join(part for part in scope if part) or "every call"
        odds = f"{self.probability:.0%}" if self.probability < 1 else "always"
        limits = (f", after {self.after}" if self.after else "") + (f", {self.times}x per operation"
                                                                    if self.times else "")
        return f"{what}: {target} ({odds}{limits})"


# ---------------------------------------------------------------- delivery anomalies


class Drop(_Model):
    """The event never reaches the responder (the finding still exists in GuardDuty)."""

    probability: Probability = 1.0


class Delay(_Model):
    """The event arrives ``by`` (plus up to ``jitter``) after GuardDuty published it."""

    probability: Probability = 1.0
    by: Seconds
    jitter: Seconds = 0.0


class Duplicate(_Model):
    """The same event is delivered again, ``copies`` times, ``after`` apart."""

    probability: Probability = 1.0
    copies: int = Field(1, ge=1, le=100)
    after: Seconds = 0.0


class Reorder(_Model):
    """An aggregated update of the finding arrives first; the original ``gap`` later."""

    probability: Probability = 1.0
    occurrences: int = Field(1, ge=1, le=1000, description="occurrences the update adds to service.count")
    gap: Seconds = 10.0


class Burst(_Model):
    """``copies`` aggregated updates of the finding arrive within ``within`` of the original."""

    probability: Probability = 1.0
    copies: int = Field(5, ge=1, le=1000)
    within: Seconds = 5.0


class DeliveryChaos(_Model):
    drop: Drop | None = None
    delay: Delay | None = None
    duplicate: Duplicate | None = None
    reorder: Reorder | None = None
    burst: Burst | None = None

    @property
    def empty(self) -> bool:
        return not any((self.drop, self.delay, self.duplicate, self.reorder, self.burst))

    def describe(self) -> list[str]:
        lines = []
        if self.drop:
            lines.append(f"drop ({self.drop.probability:.0%})")
        if self.delay:
            jitter = f" +0-{format_duration(self.delay.jitter)}" if self.delay.jitter else ""
            lines.append(f"delay {format_duration(self.delay.by)}{jitter} ({self.delay.probability:.0%})")
        if self.duplicate:
            lines.append(f"duplicate x{self.duplicate.copies} after {format_duration(self.duplicate.after)} "
                         f"({self.duplicate.probability:.0%})")
        if self.reorder:
            lines.append(f"update before the original by {format_duration(self.reorder.gap)} "
                         f"({self.reorder.probability:.0%})")
        if self.burst:
            lines.append(f"burst of {self.burst.copies} updates within {format_duration(self.burst.within)} "
                         f"({self.burst.probability:.0%})")
        return lines


# ---------------------------------------------------------------- the profile


def _profile_name(value: str) -> str:
    if not (0 < len(value) <= 40 and value[0].isascii() and value[0].islower()
            and all(c.isascii() and (c.islower() or c.isdigit() or c == "-") for c in value)):
        raise _error(f"{value!r} is not a valid profile name",
                     "use lower-case letters, digits and hyphens, starting with a letter, at most 40 characters")
    return value


class ChaosProfile(_Model):
    name: Annotated[str, AfterValidator(_profile_name)]
    description: str = Field(min_length=1)
    faults: list[FaultRule] = []
    delivery: DeliveryChaos = DeliveryChaos()

    _source_path: Path | None = PrivateAttr(None)

    @property
    def source_path(self) -> Path | None:
        return self._source_path

    def argument(self) -> str:
        """How ``--chaos`` names this profile: its name when built in, else its file."""
        path = self._source_path
        if path is None or path.parent == chaos_dir().resolve():
            return self.name
        return str(path)

    def summary(self) -> str:
        """One line: what the gateway and delivery do under this profile."""
        parts = [rule.describe() for rule in self.faults] + self.delivery.describe()
        return "; ".join(parts) or "nothing (a control run)"

    def fault_hook(self, rng: random.Random, *, time_scale: float = 1.0, env: Any = None,
                   label_of: Callable[[str], str | None] | None = None) -> Any:
        """The gateway's fault hook for one run (a :class:`simulator.chaos.faults.ChaosFaults`).

        ``rng`` seeds every decision; ``env`` (a ProvisionedEnvironment) resolves logical resource
        names; ``label_of`` (the journal's) tells the responder's calls from the harness's.
        """
        from simulator.chaos.faults import ChaosFaults

        return ChaosFaults(self.faults, seed=rng.getrandbits(64), time_scale=time_scale, env=env,
                           label_of=label_of)

    def plan_deliveries(self, envelopes: Sequence[Mapping[str, Any]], rng: random.Random, time_scale: float, *,
                        offsets: Sequence[float] | None = None) -> Any:
        """The delivery plan (a :class:`simulator.chaos.delivery.DeliveryPlan`) for these envelopes."""
        from simulator.chaos.delivery import plan_deliveries

        return plan_deliveries(envelopes, self.delivery, rng, time_scale, offsets=offsets)


# ---------------------------------------------------------------- loading

PROFILE_FILES = FileKind(noun="chaos profile", short_noun="profile", read_noun="chaos profile", option="--chaos",
                         folder=chaos_dir, error=ChaosProfileError)


def parse_profile(text: str, path: Path) -> ChaosProfile:
    """Validate one profile document; every problem is reported with its line and field."""
    shown = display_path(path)
    located = PROFILE_FILES.parse(text, shown)
    if not isinstance(located.data, dict):
        raise ChaosProfileError([f"{shown}:1: a chaos profile is a mapping (write name:, description:, faults:, "
                                 "delivery:)"], location=shown)
    lines = [f"{shown}:{line}: {field}: {message} ({fix})" for line, field, message, fix in _duplicates(located)]
    try:
        profile = ChaosProfile.model_validate(located.data)
    except ValidationError as exc:
        lines += [f"{shown}:{line}: {field}: {message}" + (f" ({fix})" if fix else "")
                  for line, field, message, fix in _problems(exc, located)]
        raise ChaosProfileError(sorted(set(lines), key=_line_number), location=shown) from None
    if PROFILE_FILES.in_folder(path) and profile.name != path.stem:
        lines.append(f"{shown}:{located.line_of(('name',))}: name: {profile.name!r} differs from the file name "
                     f"{path.name!r} (rename the file to {profile.name}{path.suffix} or set name: {path.stem})")
    if lines:
        raise ChaosProfileError(sorted(lines, key=_line_number), location=shown)
    profile._source_path = path.resolve()
    return profile


def load_profile(name_or_path: str | Path) -> ChaosProfile:
    """A built-in profile by name (``chaos/NAME.yaml``) or a profile file by path."""
    return PROFILE_FILES.load(name_or_path, parse_profile)


def profile_files() -> list[Path]:
    return PROFILE_FILES.files()


def profile_names() -> list[str]:
    return PROFILE_FILES.names()


def list_profiles() -> list[ChaosProfile]:
    """Every built-in profile, by name; problems in any file are reported together."""
    return sorted(PROFILE_FILES.load_all(load_profile), key=lambda profile: profile.name)


def _line_number(line: str) -> int:
    try:
        return int(line.split(":")[1])
    except (IndexError, ValueError):
        return 0


def _duplicates(located: Located) -> list[tuple[int, str, str, str]]:
    return [(line, format_path(path), f"duplicate key (first at line {first})", "keep one")
            for path, line, first in located.duplicate_keys]


def _problems(error: ValidationError, located: Located) -> list[tuple[int, str, str, str]]:
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if not _is_union_tag(part))
        fix = str((item.get("ctx") or {}).get("fix") or "")
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            known = _fields_at(loc[:-1])
            message = f"unknown field {loc[-1]!r}"
            fix = f"known fields: {', '.join(known)}" if known else "remove it"
        elif item["type"] == "missing":
            message = "required"
            fix = fix or "add it"
        elif item["type"] == "literal_error" and loc and loc[-1] == "kind":
            fix = f"use one of {', '.join(FAULT_KINDS)}"
        problems.append((located.line_of(loc), format_path(loc), message, fix))
    return problems


def _is_union_tag(part: Any) -> bool:
    # pydantic names the union member it tried ("tuple[str, ...]", "function-before[...]") in the location.
    return isinstance(part, str) and ("[" in part or part in ("str", "int", "float", "bool", "none"))


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The field names the model at ``loc`` accepts (for "unknown field" messages)."""
    model: Any = ChaosProfile
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return []
        model = _model_in(field.annotation)
        if model is None:
            return []
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType or origin in (list, tuple):
        for argument in typing.get_args(annotation):
            found = _model_in(argument)
            if found is not None:
                return found
    return None
