"""Who made the calls an AccessKey finding is about: ``resource.accessKeyDetails``, checked before use.

An IAM user (userType IAMUser, a long-term AKIA key or a temporary ASIA key it issued), an assumed role
(AssumedRole: the role's name, and the session name after the colon of principalId, which for an EC2
instance's role is the instance id), or the account's root user. Names are checked against what IAM
allows, in ASCII only, so a look-alike or an injection string is refused rather than looked up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from responders.lib.events import INSTANCE_ID, EventRejected, resource_details, shown

IAM_NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
ACCESS_KEY_ID = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{12,124}$")
SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)
_TYPE_GRAMMAR = re.compile(r"^[A-Za-z]+:[A-Za-z0-9]+/[A-Za-z0-9.&_-]+(?:![A-Za-z0-9]+)?$")
USER_TYPES = {"IAMUser": "user", "AssumedRole": "role", "Root": "root"}


@dataclass(frozen=True)
class Caller:
    """The principal whose credentials made the calls: ``kind`` is "user", "role" or "root"."""

    kind: str
    name: str
    access_key_id: str | None
    session: str | None = None

    @property
    def temporary_key(self) -> bool:
        return bool(self.access_key_id and self.access_key_id.startswith("ASIA"))

    @property
    def instance_id(self) -> str | None:
        """The EC2 instance whose role session this is (its session is named after the instance)."""
        return self.session if self.kind == "role" and self.session and INSTANCE_ID.match(self.session) else None


def type_allowed(finding_type: str, allowed: tuple[str, ...]) -> bool:
    """``allowed`` entries are exact types or prefixes ending in '*'; empty allows any well-formed type."""
    if not _TYPE_GRAMMAR.match(finding_type):
        return False
    if not allowed:
        return True
    return any(finding_type.startswith(entry[:-1]) if entry.endswith("*") else finding_type == entry
               for entry in allowed)


def check_finding_type(finding: dict[str, Any], finding_id: str, allowed: tuple[str, ...]) -> str:
    finding_type = finding.get("type")
    if not isinstance(finding_type, str) or not type_allowed(finding_type, allowed):
        wanted = ", ".join(allowed) if allowed else "a GuardDuty finding type"
        raise EventRejected(f"detail.type {shown(finding_type)} is not one this runbook handles ({wanted})",
                            finding_id)
    return finding_type


def caller_of(finding: dict[str, Any], finding_id: str) -> Caller:
    """The caller an AccessKey finding names (raises EventRejected when it names none we can trust)."""
    details = resource_details(finding, finding_id, "AccessKey", "accessKeyDetails")
    user_type = details.get("userType")
    kind = USER_TYPES.get(user_type) if isinstance(user_type, str) else None
    if kind is None:
        raise EventRejected(f"accessKeyDetails.userType {shown(user_type)} is not one of "
                            f"{', '.join(USER_TYPES)}", finding_id)
    key = details.get("accessKeyId")
    if key is not None and (not isinstance(key, str) or not ACCESS_KEY_ID.match(key)):
        raise EventRejected(f"accessKeyDetails.accessKeyId {shown(key)} is not an access key id", finding_id)
    if kind == "root":
        return Caller("root", "Root", key)
    name = details.get("userName")
    if not isinstance(name, str) or not IAM_NAME.match(name):
        raise EventRejected(f"accessKeyDetails.userName {shown(name)} is not an IAM {kind} name", finding_id)
    session = None
    if kind == "role":
        principal = details.get("principalId")
        session = principal.partition(":")[2] if isinstance(principal, str) else ""
        if not SESSION_NAME.match(session):
            raise EventRejected(f"accessKeyDetails.principalId {shown(principal)} names no role session",
                                finding_id)
    return Caller(kind, name, key, session)
