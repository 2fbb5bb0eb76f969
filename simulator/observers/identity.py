"""Identity observers beyond keys and passwords: a user's sessions revoked, an instance's profile replaced,
and the principal's CloudTrail history reviewed.

A CloudTrail lookup changes nothing in the sandbox, so ``cloudtrail_reviewed`` reads the gateway journal
(which serves ``LookupEvents``), which the observation loop shares with every observer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from simulator.observers.base import Observer, entry_succeeded
from simulator.observers.clients import sandbox_client
from simulator.observers.iam import (
    ACTIVE_ASSOCIATION,
    UserObserver,
    customer_policy_documents,
    is_no_such_entity,
    policy_document,
    profile_associations,
    sessions_revoked,
)
from simulator.observers.registry import register
from simulator.targets.base import Sandbox

# LookupEvents attributes that name a principal (ResourceName also matches calls made on it).
PRINCIPAL_LOOKUP_KEYS = ("Username", "AccessKeyId", "ResourceName")
# The gateway stamps an entry when its response is ready; a lookup sent at injection may be stamped before.
_JOURNAL_SLACK_SECONDS = 1.0


def user_policy_documents(sandbox: Sandbox, user_name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(policy name, document) of every inline and attached customer managed policy of the user."""
    iam = sandbox_client(sandbox, "iam")
    for name in iam.list_user_policies(UserName=user_name).get("PolicyNames", []):
        yield name, policy_document(iam.get_user_policy(UserName=user_name, PolicyName=name)["PolicyDocument"])
    yield from customer_policy_documents(
        iam, iam.list_attached_user_policies(UserName=user_name).get("AttachedPolicies", []))


@register("user_sessions_revoked", "user")
class UserSessionsRevoked(UserObserver):
    """The user denies every action to tokens issued before a moment at or after injection (what IAM's
    "revoke active sessions" does for a role, applied to the user's own temporary credentials)."""

    causing_operations = frozenset({"PutUserPolicy", "AttachUserPolicy", "CreatePolicyVersion", "DeleteUser"})

    def check(self, sandbox: Sandbox) -> bool:
        revoked = sessions_revoked(user_policy_documents(sandbox, self.user_name), f"user {self.user_name}",
                                   self.injected_wall)
        self.detail = revoked or f"user {self.user_name} still honours the sessions it issued"
        return revoked is not None


@register("instance_profile_replaced", "instance")
class InstanceProfileReplaced(Observer):
    """The instance no longer carries the profile it had at injection: disassociated, or replaced by a
    profile without the same role (a replacement that keeps the exposed role changes nothing)."""

    causing_operations = frozenset({"DisassociateIamInstanceProfile", "ReplaceIamInstanceProfileAssociation"})

    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        instance = self.resource("instance")
        self.instance_id: str = instance["id"]
        profile = instance.get("instance_profile") or {}
        self.profile_arn: str | None = profile.get("arn")
        self.role_name: str | None = profile.get("role_name")
        self.resource_ids.add(self.instance_id)

    def prepare(self, sandbox: Sandbox) -> None:
        super().prepare(sandbox)
        # Disassociate and Replace name the association, so attribution needs its id.
        self.resource_ids.update(a["AssociationId"] for a in profile_associations(sandbox, self.instance_id))

    def check(self, sandbox: Sandbox) -> bool:
        if not self.profile_arn:
            self.detail = f"{self.instance_id} had no instance profile to replace"
            return False
        active = [a for a in profile_associations(sandbox, self.instance_id) if a.get("State") in ACTIVE_ASSOCIATION]
        self.resource_ids.update(a["AssociationId"] for a in active)
        arns = [a.get("IamInstanceProfile", {}).get("Arn", "") for a in active]
        if self.profile_arn in arns:
            self.detail = f"{self.instance_id} still carries {self.profile_arn}"
            return False
        for arn in arns:
            if self.role_name and self.role_name in self._roles_of(sandbox, arn):
                self.detail = f"the replacement profile {arn} carries the same role {self.role_name}"
                return False
        self.detail = "profile replaced" if arns else "profile disassociated"
        return True

    @staticmethod
    def _roles_of(sandbox: Sandbox, profile_arn: str) -> set[str]:
        name = profile_arn.rsplit("/", 1)[-1]
        try:
            profile = sandbox_client(sandbox, "iam").get_instance_profile(InstanceProfileName=name)
        except ClientError as error:
            if not is_no_such_entity(error):
                raise
            return set()
        return {role["RoleName"] for role in profile["InstanceProfile"].get("Roles", [])}


def lookup_attributes(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, value) of a LookupEvents request's attributes, as the journal decoded them."""
    found = []
    for attribute in params.get("LookupAttributes") or []:
        if isinstance(attribute, Mapping):
            key, value = attribute.get("AttributeKey"), attribute.get("AttributeValue")
            if isinstance(key, str) and isinstance(value, str):
                found.append((key, value))
    return found


def principal_names(descriptor: Mapping[str, Any], finding: Mapping[str, Any]) -> set[str]:
    """What a lookup may name to mean this user or role: its name, ARN, its keys, and the key the finding
    saw it use (a role's temporary key, for instance credentials)."""
    names = {descriptor.get(key) for key in ("user_name", "role_name", "name", "arn")}
    names.update(key.get("id") for key in descriptor.get("access_keys") or [])
    details = (finding.get("resource") or {}).get("accessKeyDetails") or {}
    if isinstance(details, Mapping) and details.get("userName") in names:
        names.add(details.get("accessKeyId"))
    return {name for name in names if isinstance(name, str) and name}


@register("cloudtrail_reviewed", "user", "role")
class CloudTrailReviewed(Observer):
    """A successful CloudTrail ``LookupEvents`` after injection asked for the principal's events (by user
    name, access key id or resource name). It changes no state, so the gateway journal is the witness."""

    causing_operations = frozenset({"LookupEvents"})

    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        principal = self.resource("user" if "user" in self.params else "role")
        self.label: str = principal.get("user_name") or principal.get("role_name") or principal["name"]
        self.names = principal_names(principal, finding)
        self.resource_ids.update(self.names)
        self._seen_seq = 0

    def check(self, sandbox: Sandbox) -> bool:
        if self.journal is None:
            self.detail = "no gateway journal to read (this run records no API calls)"
            return False
        if self._reviewed(self.journal.entries(since_seq=self._seen_seq)):
            self.detail = None
            return True
        self.detail = f"no CloudTrail lookup of {self.label}'s events since injection"
        return False

    def _reviewed(self, entries: Iterable[Any]) -> bool:
        floor = (self.injected_wall or 0.0) - _JOURNAL_SLACK_SECONDS
        for entry in entries:
            self._seen_seq = max(self._seen_seq, entry.seq)
            if entry.operation != "LookupEvents" or not entry_succeeded(entry) or entry.wall < floor:
                continue
            if any(key in PRINCIPAL_LOOKUP_KEYS and value in self.names
                   for key, value in lookup_attributes(entry.params or {})):
                return True
        return False
