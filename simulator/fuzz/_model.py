"""What a hostile variant is: the input, what it attacks, and what a robust responder does with it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class HostileFinding:
    """A finding (or a sequence of events) built to break a responder.

    ``attack`` names the technique (see ``simulator.fuzz.ATTACKS``); ``breaks_schema`` says whether the
    finding departs from botocore's Finding shape (missing or mistyped members, unknown keys) rather
    than only from GuardDuty's semantics; ``target`` is the JSON path the attack touches; ``expected`` is
    what a robust responder does. Sequence attacks (duplicates, reordering) put the EventBridge events in
    delivery order in ``events``; ``finding`` is then the finding those events carry (the latest state).
    """

    attack: str
    breaks_schema: bool
    finding: dict
    target: str = "$"
    expected: str = "reject or escalate without acting on the resources it names"
    events: tuple[dict, ...] = field(default=())

    @property
    def is_sequence(self) -> bool:
        return bool(self.events)
