"""Reference responder for findings nobody should contain by machine: gather, notify, escalate.

For EKS clusters, RDS databases, Lambda functions, ECS clusters and attack sequences the harness can
neither build nor safely change the resource, and neither should a generic responder: it gathers what
the finding and read-only look-ups say, keeps it in the case file, tells the on-call and pages level 1
when the finding is serious enough (severity at or above PAGE_MIN_SEVERITY, and every attack sequence).

This module is also the runbook frame the network and S3 responders build on: :class:`Config` (the
responder's environment), :func:`check_event` (what every event must pass before anything is read on
its behalf) and :class:`Runbook` (steps in order, each failure recorded and the next step still run, a
notification and a page at most once per finding, the reason paged when something could not be done).

Configuration (environment): ONCALL_TOPIC_ARN and EVIDENCE_BUCKET (required); PAGER_TOPIC_ARN and
ESCALATION_CONTACT, else from ESCALATION (the scenario's escalation path as JSON); PAGE_MIN_SEVERITY (a
number, or ``never``; default 7); FINDING_TYPES (comma-separated type prefixes to accept; default all);
PROTECTED_TAG (``key`` or ``key=value``, default gdsim:protected).

Safe to repeat per finding id: the case file remembers what was done, so a second delivery, or an
aggregated update that is not newer, changes nothing and says so.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from responders.lib import aws
from responders.lib.escalate import page
from responders.lib.events import (
    EventRejected,
    account_of_function,
    check_scope,
    check_severity,
    finding_id_of,
    finding_of,
    shown,
)
from responders.lib.gather import CaseFile, clean, facts_of, lookups, member, missing_resources
from responders.lib.instance import DEFAULT_PROTECTED_TAG
from responders.lib.notify import notify
from responders.lib.s3 import valid_bucket_name

# Lambda's init phase: parse the API models of the services used (clients still come on first use).
aws.preload("sns", "s3")

FINDING_TYPE = re.compile(r"^[A-Za-z0-9]+:[A-Za-z0-9]+/[A-Za-z0-9.!&_-]{1,100}$")
GUARDDUTY_ARN = re.compile(r"^arn:aws[a-z-]*:guardduty:([a-z0-9-]+):(\d{12}):detector/[0-9a-zA-Z]{1,64}"
                           r"/finding/([A-Za-z0-9._:-]{1,128})$")
DEFAULT_PAGE_MIN_SEVERITY = 7.0
_NEVER = ("never", "none", "off")


class ResponderConfigError(Exception):
    """The responder's environment is incomplete; it cannot even escalate."""


class EscalationFailed(Exception):
    """A step failed and the page about it could not be sent either: let the platform retry."""


def _escalation_path(text: str | None) -> dict[str, Any]:
    """ESCALATION, the scenario's path as JSON: {"topic_arn", "levels": [{"level", "contact", ...}]}."""
    if not text:
        return {}
    try:
        path = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResponderConfigError(f"ESCALATION is not JSON: {exc}") from exc
    if not isinstance(path, dict) or not isinstance(path.get("levels", []), list):
        raise ResponderConfigError("ESCALATION must be an object with topic_arn and a list of levels")
    path["levels"] = [level for level in path.get("levels", []) if isinstance(level, dict)]
    return path


def _page_threshold(text: str | None, default: float | None) -> float | None:
    if text is None or not text.strip():
        return default
    if text.strip().lower() in _NEVER:
        return None
    try:
        return float(text)
    except ValueError:
        raise ResponderConfigError(f"PAGE_MIN_SEVERITY {text!r} is not a number or 'never'") from None


@dataclass(frozen=True)
class Config:
    oncall_topic_arn: str
    pager_topic_arn: str
    escalation_contact: str | None
    evidence_bucket: str
    protected_tag: str = DEFAULT_PROTECTED_TAG
    page_min_severity: float | None = DEFAULT_PAGE_MIN_SEVERITY
    type_prefixes: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, *, page_min_severity: float | None = DEFAULT_PAGE_MIN_SEVERITY) -> Config:
        ladder = _escalation_path(os.environ.get("ESCALATION"))
        pager = os.environ.get("PAGER_TOPIC_ARN") or ladder.get("topic_arn")
        first: dict[str, Any] = next((level for level in ladder.get("levels", []) if level.get("level") == 1), {})
        required = (("ONCALL_TOPIC_ARN", os.environ.get("ONCALL_TOPIC_ARN")), ("PAGER_TOPIC_ARN", pager),
                    ("EVIDENCE_BUCKET", os.environ.get("EVIDENCE_BUCKET")))
        missing = [name for name, value in required if not value]
        if missing:
            raise ResponderConfigError(f"set {' and '.join(missing)} in the responder's environment")
        if not valid_bucket_name(os.environ["EVIDENCE_BUCKET"]):
            raise ResponderConfigError(f"EVIDENCE_BUCKET {os.environ['EVIDENCE_BUCKET']!r} is not a bucket name")
        prefixes = tuple(p.strip() for p in os.environ.get("FINDING_TYPES", "").split(",") if p.strip())
        return cls(
            oncall_topic_arn=os.environ["ONCALL_TOPIC_ARN"],
            pager_topic_arn=str(pager),
            escalation_contact=os.environ.get("ESCALATION_CONTACT") or first.get("contact") or None,
            evidence_bucket=os.environ["EVIDENCE_BUCKET"],
            protected_tag=os.environ.get("PROTECTED_TAG") or DEFAULT_PROTECTED_TAG,
            page_min_severity=_page_threshold(os.environ.get("PAGE_MIN_SEVERITY"), page_min_severity),
            type_prefixes=prefixes,
        )


# ---------------------------------------------------------------- the event


def check_arn(finding: Mapping[str, Any], finding_id: str) -> None:
    """The finding's ARN, when present, must name this very finding in its own account and region."""
    arn = finding.get("arn")
    if arn is None:
        return
    match = GUARDDUTY_ARN.match(arn) if isinstance(arn, str) else None
    if match is None:
        raise EventRejected(f"detail.arn {shown(arn)} is not a GuardDuty finding ARN", finding_id)
    region, account, named = match.groups()
    if named != finding_id or account != finding.get("accountId", account) or region != finding.get("region", region):
        raise EventRejected(f"detail.arn names finding {shown(named)} in {account}/{region}, not this finding",
                            finding_id)


def check_event(event: Any, context: Any, accepts: Callable[[str], bool], what: str
                ) -> tuple[dict[str, Any], str, str]:
    """(finding, finding id, type) of an event this runbook may act on; EventRejected otherwise."""
    finding = finding_of(event)
    finding_id = finding_id_of(finding)
    finding_type = finding.get("type")
    if not isinstance(finding_type, str) or not FINDING_TYPE.match(finding_type):
        raise EventRejected(f"detail.type {shown(finding_type)} is not a GuardDuty finding type", finding_id)
    if not accepts(finding_type):
        raise EventRejected(f"detail.type {shown(finding_type)} is not a finding {what} handles", finding_id)
    check_severity(finding, finding_id)
    check_scope(finding, finding_id, account_id=account_of_function(context), region=aws.region())
    check_arn(finding, finding_id)
    return finding, finding_id, finding_type


def is_sample(finding: Mapping[str, Any]) -> bool:
    """A GuardDuty sample finding (CreateSampleFindings): it names made-up resources."""
    return member(member(finding, "service"), "additionalInfo").get("sample") is True


def severity_of(finding: Mapping[str, Any]) -> float:
    value = finding.get("severity")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def reject(config: Config, rejected: EventRejected, responder: str) -> dict[str, Any]:
    """Escalate an event we will not act on. Never raises: hostile input must not crash the handler."""
    reason = f"event rejected: {rejected.reason}"
    print(f"[{responder}] {reason}")
    summary: dict[str, Any] = {"status": "rejected", "finding_id": rejected.finding_id, "reason": reason,
                               "escalated": False, "steps": {}}
    try:
        page(aws.client("sns"), config.pager_topic_arn, level=1, contact=config.escalation_contact,
             finding_id=rejected.finding_id, reason=reason)
        summary["escalated"] = True
    except Exception as exc:
        summary["escalation_error"] = f"{type(exc).__name__}: {exc}"
        print(f"[{responder}] could not page about the rejected event: {summary['escalation_error']}")
    return summary


# ---------------------------------------------------------------- one handling of one finding


def _version(finding: Mapping[str, Any]) -> tuple[str, int]:
    """Where this state of the finding stands among its aggregated updates: (updatedAt, count)."""
    count = member(finding, "service").get("count")
    updated = finding.get("updatedAt")
    return (updated if isinstance(updated, str) else "",
            count if isinstance(count, int) and not isinstance(count, bool) else 0)


@dataclass
class Runbook:
    """Runs one runbook on one finding: steps in order, markers in the case file, pages with reasons."""

    responder: str
    config: Config
    finding: dict[str, Any]
    finding_id: str
    finding_type: str
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    page_reasons: list[str] = field(default_factory=list)
    # An earlier delivery finished an older state of the finding: this one is an aggregated update.
    updating: bool = False

    def __post_init__(self) -> None:
        self.case = CaseFile(aws.client("s3"), self.config.evidence_bucket, self.finding_id)

    def log(self, message: str) -> None:
        print(f"[{self.responder}] {clean(message, 2000)}")

    # -- repeats ----------------------------------------------------------------------------------------

    def already_handled(self) -> bool:
        """True when an earlier delivery finished this state of the finding (or a newer one)."""
        record = self.case.marker("handled")
        if record is None:
            return False
        seen = (str(record.get("updated_at", "")), int(record.get("count") or 0))
        self.updating = True
        return _version(self.finding) <= seen

    # -- steps ------------------------------------------------------------------------------------------

    def step(self, name: str, action: Callable[[], tuple[str, Any]]) -> Any:
        """Run one step; a failure is recorded (and paged at the end) and the runbook goes on."""
        try:
            outcome, detail = action()
        except Exception as exc:
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
            self.results[name] = {"outcome": "failed", "error": error}
            self.failures.append(f"{name} failed ({error})")
            self.log(f"{name}: FAILED {error}")
            return None
        self.results[name] = {"outcome": outcome, "detail": detail}
        self.log(f"{name}: {outcome} {json.dumps(detail, default=str)[:500]}")
        return detail

    def escalate_for(self, reason: str) -> None:
        """Ask for a human even though every step worked (the runbook says so)."""
        self.page_reasons.append(reason)

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

    def notify(self, summary: str, facts: Mapping[str, Any], *, resource: str) -> None:
        """Tell the on-call once per finding: what it is, on what, and what the runbook does about it."""
        def send() -> tuple[str, Any]:
            try:
                told = self.case.marker("notified") is not None
            except Exception as exc:  # an unreadable case file must not keep the on-call in the dark
                self.log(f"could not read the notified marker ({type(exc).__name__}); notifying")
                told = False
            if told:
                return "already done", "on-call was notified by an earlier delivery"
            message = {"finding_id": self.finding_id, "finding_type": self.finding_type,
                       "severity": self.finding.get("severity"), "resource": resource, "summary": summary,
                       "case_file": f"s3://{self.config.evidence_bucket}/{self.case.key()}", "facts": dict(facts)}
            message_id = notify(aws.client("sns"), self.config.oncall_topic_arn,
                                subject=f"GuardDuty {self.finding_type} on {resource} ({self.finding_id})",
                                message=message, attributes={"finding_id": self.finding_id})
            self._remember("notified", {"message_id": message_id})
            return "done", {"message_id": message_id}

        self.step("notify", send)

    # -- the end ---------------------------------------------------------------------------------------

    def finish(self, summary: dict[str, Any]) -> dict[str, Any]:
        """Page what needs a human (failures first), remember a clean finish, and say how it ended."""
        summary = {**summary, "finding_id": self.finding_id, "finding_type": self.finding_type,
                   "steps": self.results}
        reasons = [*self.failures, *self.page_reasons]
        paged = False
        if reasons:
            reason = f"{self.finding_type} on {summary.get('resource', '?')}: " + "; ".join(reasons)
            summary["reason"] = reason
            if not self.failures and self._earlier_page() == reason:
                self.log("level 1 was paged for this by an earlier delivery")
            else:
                try:
                    message_id = page(aws.client("sns"), self.config.pager_topic_arn, level=1,
                                      contact=self.config.escalation_contact, finding_id=self.finding_id,
                                      reason=reason)
                except Exception as exc:
                    raise EscalationFailed(f"{reason}; and paging failed: {type(exc).__name__}: {exc}") from exc
                paged = True
                self._remember("paged-level-1", {"reason": reason, "message_id": message_id})
        changed = paged or any(result.get("outcome") == "done" for result in self.results.values())
        if self.updating and not changed:
            summary.update(status="duplicate", escalated=False)  # an aggregated update with nothing new
        elif reasons:
            summary.update(status="escalated", escalated=True)
        else:
            summary.update(status="updated" if self.updating else "remediated", escalated=False)
        if not self.failures:
            updated_at, count = _version(self.finding)
            self._remember("handled", {"updated_at": updated_at, "count": count, "status": summary["status"]})
        return summary

    def _earlier_page(self) -> str | None:
        try:
            record = self.case.marker("paged-level-1")
        except Exception:
            return None  # unknown: page again rather than stay silent
        return str(record.get("reason")) if record else None

    def _remember(self, step: str, record: dict[str, Any]) -> None:
        try:
            self.case.mark(step, record)
        except Exception as exc:
            # Everything is done; without the marker a repeat delivery re-checks each step, which is safe.
            self.log(f"could not record {step} in the case file: {type(exc).__name__}: {exc}")

    def duplicate(self, summary: dict[str, Any]) -> dict[str, Any]:
        self.log(f"finding {self.finding_id} was already handled: nothing to do")
        return {**summary, "finding_id": self.finding_id, "finding_type": self.finding_type, "status": "duplicate",
                "escalated": False, "steps": {}}


def ignored(finding_id: str, responder: str, reason: str) -> dict[str, Any]:
    print(f"[{responder}] finding {finding_id} ignored: {reason}")
    return {"status": "ignored", "finding_id": finding_id, "reason": reason, "escalated": False, "steps": {}}


# ---------------------------------------------------------------- the generic responder

RESPONDER = "notify-escalate"


def _resource_label(facts: Mapping[str, Any]) -> str:
    for key in ("eks_cluster", "db_instance", "lambda_function", "ecs_cluster", "instance_id", "principal"):
        if facts.get(key):
            return f"{key.replace('_', ' ')} {facts[key]}"
    buckets = facts.get("buckets") or []
    if buckets:
        return f"bucket {buckets[0]}"
    resources = (facts.get("sequence") or {}).get("resources") or []
    return f"{resources[0]}" if resources else str(facts.get("resource_type") or "unknown resource")


def handler(event: Any, context: Any) -> dict[str, Any]:
    config = Config.from_env()

    def accepts(finding_type: str) -> bool:
        return not config.type_prefixes or finding_type.startswith(config.type_prefixes)

    try:
        finding, finding_id, finding_type = check_event(event, context, accepts, "this responder")
    except EventRejected as rejected:
        return reject(config, rejected, RESPONDER)
    if is_sample(finding):
        return ignored(finding_id, RESPONDER, "GuardDuty sample finding (made-up resources)")

    runbook = Runbook(RESPONDER, config, finding, finding_id, finding_type)
    try:
        if runbook.already_handled():
            return runbook.duplicate({})
    except Exception as exc:  # an unreadable case file is no reason to drop the finding: handle it again
        runbook.log(f"could not read the case file ({type(exc).__name__}); handling the finding again")
    facts = runbook.gather()
    resource = _resource_label(facts)
    severity = severity_of(finding)
    sequence = finding_type.startswith("AttackSequence:")
    threshold = config.page_min_severity
    missing = missing_resources(facts.get("lookups") or {})
    if missing:
        runbook.escalate_for(f"the finding names {', '.join(missing)}, not found in this account and region")
    if sequence:
        runbook.escalate_for("attack sequence: several signals of one compromise; needs a responder now")
    elif threshold is not None and severity >= threshold:
        runbook.escalate_for(f"severity {severity:g} is at or above {threshold:g} and this runbook has no "
                             "automated containment")
    paging = bool(runbook.page_reasons)
    runbook.notify("Gathered the finding's data into the case file; "
                   + ("paging the on-call: no automated containment." if paging else "no page at this severity."),
                   {key: value for key, value in facts.items() if key != "lookups"}, resource=resource)
    return runbook.finish({"resource": resource, "lookups": facts.get("lookups")})
