"""The game-day plan's shape: which scenarios go in, when, under which chaos, and who plays on-call.

Field by field validation lives here (pydantic models); references between fields and to other files
(scenarios, chaos profiles, players) are checked in ``checks.py`` so every problem is reported at once.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, model_validator
from pydantic_core import PydanticCustomError

from simulator.scenario import Duration, parse_duration
from simulator.scenario.durations import DURATION_HINT

RANDOM = "random"
NO_CHAOS = "none"
DEFAULT_TIME_SCALE = 60.0
# Every finding gets its own sandbox, started before the clock: keep a plan within what one machine runs.
MAX_FINDINGS = 20
MAX_COUNT = 10


def _error(code: str, message: str, fix: str = "") -> PydanticCustomError:
    # Messages quote user input, which may hold braces; the template language must not see them.
    return PydanticCustomError(code, message.replace("{", "{{").replace("}", "}}"), {"fix": fix})


def _duration(value: Any, hint: str = DURATION_HINT) -> Duration:
    if isinstance(value, Duration):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _error("duration", f"{value!r} is not a duration", hint)
    if isinstance(value, int | float):
        raise _error("duration", f"{value!r} has no unit", hint)
    try:
        return Duration(parse_duration(value), value.strip())
    except ValueError as exc:
        raise _error("duration", str(exc), hint) from None


def _at(value: Any) -> Duration | str:
    if isinstance(value, str) and value.strip().lower() == RANDOM:
        return RANDOM
    return _duration(value, f"{DURATION_HINT} (runbook time from the start), or random")


RunbookDuration = Annotated[Duration, PlainValidator(_duration), PlainSerializer(lambda d: d.text)]
At = Annotated[Duration | str, PlainValidator(_at),
               PlainSerializer(lambda d: d if isinstance(d, str) else d.text)]


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 40 or not value[0].isalpha() or not all(
            c.isascii() and (c.isalnum() or c in "-_.") for c in value):
        raise _error("name", f"{value!r} is not a valid name",
                     "use letters, digits, '-', '_' and '.', starting with a letter, at most 40 characters")
    return value


Name = Annotated[str, PlainValidator(_name)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Player(_Model):
    """Someone on the escalation path: simulated (acknowledges a level's page after a delay, or never), or a
    person (``human: true``) who acknowledges with ``simulate ack``."""

    name: Name
    human: bool = False
    acknowledge_at_level: Annotated[int, Field(ge=1)] | Literal["never"] | None = None
    after: RunbookDuration | None = None

    @model_validator(mode="after")
    def _simulated_or_human(self) -> Player:
        if self.human and (self.acknowledge_at_level is not None or self.after is not None):
            raise _error("player", "a human player acknowledges with `simulate ack`, not by a rule",
                         "remove acknowledge_at_level and after, or remove human: true")
        if not self.human and self.acknowledge_at_level is None:
            raise _error("player", "a simulated player needs acknowledge_at_level",
                         "write acknowledge_at_level: 1 (or never), or human: true for a person")
        return self

    @property
    def ack_level(self) -> int | None:
        """The level whose page this player acknowledges; None for never (or a human)."""
        level = self.acknowledge_at_level
        return level if isinstance(level, int) else None

    @property
    def after_seconds(self) -> float:
        return self.after.seconds if self.after is not None else 0.0

    def describe(self) -> str:
        if self.human:
            return f"{self.name} (a person: `simulate ack`)"
        if self.ack_level is None:
            return f"{self.name} (never acknowledges)"
        after = self.after.text if self.after is not None else "0s"
        return f"{self.name} (acknowledges level {self.ack_level} after {after})"


class Entry(_Model):
    """Findings of one scenario: when they go in, how many, under which chaos and on-call."""

    scenario: str = Field(min_length=1, description="a scenario name from scenarios/ or a path to a scenario file")
    at: At = Field(RANDOM, description="runbook time from the start of the game day, or random (within window)")
    count: int = Field(1, ge=1, le=MAX_COUNT)
    chaos: str | None = Field(None, description="a chaos profile (name or file), or none; default: the plan's")
    oncall: Name | None = Field(None, description="the player on-call for these findings; default: the plan's")
    responder: str | None = Field(None, description="test this responder instead of the scenario's own")

    @property
    def random(self) -> bool:
        return self.at == RANDOM

    @property
    def at_seconds(self) -> float | None:
        return self.at.seconds if isinstance(self.at, Duration) else None


class Plan(_Model):
    """A game day as data."""

    name: Name
    description: str = ""
    seed: Annotated[int, Field(ge=0)] | None = Field(None, description="reproduces the schedule and the findings")
    target: str = "moto"
    time_scale: float = Field(DEFAULT_TIME_SCALE, gt=0, description="runbook seconds per wall second")
    window: RunbookDuration | None = Field(None, description="random times fall within this much runbook time")
    chaos: str | None = Field(None, description="the chaos profile of every entry that names none")
    players: list[Player] = []
    oncall: Name | None = Field(None, description="the player on-call for entries that name none")
    entries: list[Entry] = Field(min_length=1)

    @property
    def window_seconds(self) -> float | None:
        return self.window.seconds if self.window is not None else None

    def player(self, name: str | None) -> Player | None:
        for player in self.players:
            if player.name == name:
                return player
        return None

    def player_for(self, entry: Entry) -> Player | None:
        """Who is on-call for ``entry``: its own player, else the plan's; None keeps the scenario's own."""
        return self.player(entry.oncall or self.oncall)

    def chaos_for(self, entry: Entry) -> str | None:
        chaos = entry.chaos if entry.chaos is not None else self.chaos
        return None if chaos is None or chaos.strip().lower() == NO_CHAOS else chaos

    @property
    def finding_count(self) -> int:
        return sum(entry.count for entry in self.entries)
