"""The case-file runbooks (gather, notify, escalate; and the network and S3 runbooks built on it): their
configuration, the checks their events pass, and a Runbook whose memory is the finding's case file in
the evidence bucket, which also keeps what the runbook gathered.

Configuration (environment): as responders.lib.settings.Config, plus EVIDENCE_BUCKET (required);
PAGE_MIN_SEVERITY (a number, or ``never``; default 7); FINDING_TYPES (comma-separated type prefixes to
accept; default all).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self

from responders.lib import aws
from responders.lib.events import EventIgnored, EventRejected, check_arn, shown
from responders.lib.gather import CaseFile, facts_of, lookups, member
from responders.lib.intake import Checked, admit
from responders.lib.runbook import Logger, Runbook
from responders.lib.s3 import valid_bucket_name
from responders.lib.settings import Config, ResponderConfigError, env_names, escalation_settings

FINDING_TYPE = re.compile(r"^[A-Za-z0-9]+:[A-Za-z0-9]+/[A-Za-z0-9.!&_-]{1,100}$")
DEFAULT_PAGE_MIN_SEVERITY = 7.0
_NEVER = ("never", "none", "off")


@dataclass(frozen=True)
class Playbook:
    """What a runbook does about a finding type: ``summary`` tells the on-call, and ``page`` asks for a
    human even when every step worked. A runbook's playbooks add the steps they take."""

    summary: str
    page: bool = False


def page_threshold(text: str | None, default: float | None) -> float | None:
    if text is None or not text.strip():
        return default
    if text.strip().lower() in _NEVER:
        return None
    try:
        return float(text)
    except ValueError:
        raise ResponderConfigError(f"PAGE_MIN_SEVERITY {text!r} is not a number or 'never'") from None


@dataclass(frozen=True)
class CaseConfig(Config):
    evidence_bucket: str
    page_min_severity: float | None = DEFAULT_PAGE_MIN_SEVERITY
    type_prefixes: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, *, page_min_severity: float | None = DEFAULT_PAGE_MIN_SEVERITY) -> Self:
        settings = escalation_settings(also_required=("EVIDENCE_BUCKET",))
        if not valid_bucket_name(os.environ["EVIDENCE_BUCKET"]):
            raise ResponderConfigError(f"EVIDENCE_BUCKET {os.environ['EVIDENCE_BUCKET']!r} is not a bucket name")
        return cls(**settings, evidence_bucket=os.environ["EVIDENCE_BUCKET"],
                   page_min_severity=page_threshold(os.environ.get("PAGE_MIN_SEVERITY"), page_min_severity),
                   type_prefixes=env_names("FINDING_TYPES"))

    def accepts(self, finding_type: str) -> bool:
        return not self.type_prefixes or finding_type.startswith(self.type_prefixes)


def check_event(event: Any, context: Any, accepts: Callable[[str], bool], what: str) -> Checked:
    """The finding of an event ``what`` may act on (``accepts`` its type); EventRejected otherwise."""
    def check_type(finding: dict[str, Any], finding_id: str) -> str:
        finding_type = finding.get("type")
        if not isinstance(finding_type, str) or not FINDING_TYPE.match(finding_type):
            raise EventRejected(f"detail.type {shown(finding_type)} is not a GuardDuty finding type", finding_id)
        if not accepts(finding_type):
            raise EventRejected(f"detail.type {shown(finding_type)} is not a finding {what} handles", finding_id)
        return finding_type

    checked = admit(event, context, check_type)
    check_arn(checked.finding, checked.finding_id)
    return checked


def is_sample(finding: Mapping[str, Any]) -> bool:
    """A GuardDuty sample finding (CreateSampleFindings): it names made-up resources."""
    return member(member(finding, "service"), "additionalInfo").get("sample") is True


def ignore_samples(checked: Checked) -> None:
    """EventIgnored for a sample finding: acting on made-up resources could only touch the wrong ones."""
    if is_sample(checked.finding):
        raise EventIgnored("GuardDuty sample finding (made-up resources)", checked.finding_id)


def severity_of(finding: Mapping[str, Any]) -> float:
    value = finding.get("severity")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


class CaseRunbook(Runbook):
    """A Runbook that keeps its markers, and what it gathers, in the finding's case file."""

    def __init__(self, config: CaseConfig, log: Logger, checked: Checked) -> None:
        super().__init__(config, log, checked, CaseFile(aws.client("s3"), config.evidence_bucket, checked.finding_id))
        self.case_config = config

    @property
    def case(self) -> CaseFile:
        assert isinstance(self.memory, CaseFile)
        return self.memory

    def gather(self, client: Callable[[str], Any] = aws.client, extra: Mapping[str, Any] | None = None
               ) -> dict[str, Any]:
        """The finding's facts and the read-only look-ups, kept in the case file once per finding."""
        facts = facts_of(self.finding)
        facts["lookups"] = lookups(facts, client)
        facts.update(extra or {})

        def keep() -> tuple[str, Any]:
            if self.case.exists("case.json"):
                return "already done", self.case.key("case.json")
            return "done", self.case.put_evidence(("case.json",), facts, kind="case")

        self.step("gather", keep)
        return facts

    def notify_with_facts(self, summary: str, facts: Mapping[str, Any], *, resource: str) -> None:
        """Tell the on-call once: what the finding is, on what, what the runbook does, and the facts gathered."""
        message = {"finding_id": self.finding_id, "finding_type": self.finding_type,
                   "severity": self.finding.get("severity"), "resource": resource, "summary": summary,
                   "case_file": f"s3://{self.case_config.evidence_bucket}/{self.case.key()}",
                   "facts": {key: value for key, value in facts.items() if key != "lookups"}}
        self.notify(f"GuardDuty {self.finding_type} on {resource} ({self.finding_id})", message)
