"""Identity observers: role credentials revoked, access key deactivated, console password removed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from simulator.observers.base import Observer
from simulator.observers.clients import sandbox_client
from simulator.observers.registry import register
from simulator.targets.base import Sandbox

# Revocation cut-offs are usually written to the second, while injection is timed to the microsecond.
TOKEN_TIME_SLACK_SECONDS = 1.0
# States of an instance profile association that still gives the instance the profile's role.
ACTIVE_ASSOCIATION = ("associating", "associated")


def is_no_such_entity(error: ClientError) -> bool:
    """IAM's answer for a user, role, policy or profile that does not exist (e.g. deleted by the responder)."""
    return error.response.get("Error", {}).get("Code") == "NoSuchEntity"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _parse_time(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def policy_document(raw: Any) -> dict[str, Any]:
    """A policy document as a dict, whether boto3 decoded it or handed over the URL-encoded JSON."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, str):
        try:
            decoded = json.loads(unquote(raw))
        except ValueError:
            return {}
        return decoded if isinstance(decoded, dict) else {}
    return {}


def revocation_cutoff(document: Mapping[str, Any]) -> float | None:
    """The latest ``aws:TokenIssueTime`` before which a statement denies every action on every resource.

    This is what IAM's "revoke active sessions" writes: Deny * on * with
    ``DateLessThan {aws:TokenIssueTime: <now>}``. None if the document has no such statement.
    """
    best: float | None = None
    for statement in _as_list(document.get("Statement", [])):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Deny":
            continue
        if "*" not in _as_list(statement.get("Action")) or "*" not in _as_list(statement.get("Resource")):
            continue
        conditions = statement.get("Condition") or {}
        for operator in ("DateLessThan", "DateLessThanEquals"):
            block = conditions.get(operator) or {}
            for key, values in block.items():
                if key.lower() != "aws:tokenissuetime":
                    continue
                for value in _as_list(values):
                    moment = _parse_time(value)
                    if moment is not None and (best is None or moment > best):
                        best = moment
    return best


def customer_policy_documents(iam: Any, attached: Iterable[Mapping[str, Any]]
                              ) -> Iterator[tuple[str, dict[str, Any]]]:
    """(policy name, default version's document) of each attached policy that is not AWS managed."""
    for policy in attached:
        arn = policy["PolicyArn"]
        if arn.startswith("arn:aws:iam::aws:policy/"):
            continue  # AWS managed policies never carry a revocation cut-off
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        yield policy["PolicyName"], policy_document(document)


def role_policy_documents(sandbox: Sandbox, role_name: str) -> Iterable[tuple[str, dict[str, Any]]]:
    """(policy name, document) for every inline and attached managed policy of the role."""
    iam = sandbox_client(sandbox, "iam")
    for name in iam.list_role_policies(RoleName=role_name).get("PolicyNames", []):
        document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        yield name, policy_document(document)
    yield from customer_policy_documents(
        iam, iam.list_attached_role_policies(RoleName=role_name).get("AttachedPolicies", []))


def sessions_revoked(documents: Iterable[tuple[str, Mapping[str, Any]]], principal: str,
                     injected_wall: float | None) -> str | None:
    """How ``principal`` ("role NAME", "user NAME") stopped honouring tokens issued before injection: a
    policy among ``documents`` with a revocation cut-off at or after it, or the principal deleted.
    None while it still honours them."""
    floor = (injected_wall or 0.0) - TOKEN_TIME_SLACK_SECONDS
    try:
        for name, document in documents:
            cutoff = revocation_cutoff(document)
            if cutoff is not None and cutoff >= floor:
                return f"{principal} denies tokens issued before the cut-off ({name})"
    except ClientError as error:
        if not is_no_such_entity(error):
            raise
        return f"{principal} was deleted"
    return None


def profile_associations(sandbox: Sandbox, instance_id: str) -> list[dict[str, Any]]:
    """The instance's IAM instance profile associations, in any state."""
    response = sandbox_client(sandbox, "ec2").describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [instance_id]}])
    return list(response.get("IamInstanceProfileAssociations", []))


@register("role_credentials_revoked", "instance", "role")
class RoleCredentialsRevoked(Observer):
    """The instance profile is disassociated or replaced, or the role denies every token issued before
    a time at or after injection (IAM's "revoke active sessions")."""

    causing_operations = frozenset({
        "DisassociateIamInstanceProfile", "ReplaceIamInstanceProfileAssociation",
        "PutRolePolicy", "AttachRolePolicy", "CreatePolicyVersion",
    })

    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        self.instance_id: str | None = None
        self.profile_arn: str | None = None
        self.role_name: str | None = None
        if "instance" in self.params:
            instance = self.resource("instance")
            self.instance_id = instance["id"]
            profile = instance.get("instance_profile") or {}
            self.profile_arn = profile.get("arn")
            self.role_name = profile.get("role_name")
            self.resource_ids.update(v for v in (self.instance_id, profile.get("role_arn")) if v)
        else:
            role = self.resource("role")
            self.role_name = role.get("role_name") or role.get("name")
            self.resource_ids.update(v for v in (role.get("arn"),) if v)
        if self.role_name:
            self.resource_ids.add(self.role_name)

    def prepare(self, sandbox: Sandbox) -> None:
        super().prepare(sandbox)
        if self.instance_id:
            # Association ids are what Disassociate/Replace name, so attribution needs them.
            for association in profile_associations(sandbox, self.instance_id):
                self.resource_ids.add(association["AssociationId"])

    def check(self, sandbox: Sandbox) -> bool:
        if self.instance_id and self.profile_arn:
            active = [a for a in profile_associations(sandbox, self.instance_id)
                      if a.get("State") in ACTIVE_ASSOCIATION]
            self.resource_ids.update(a["AssociationId"] for a in active)
            if not any(a.get("IamInstanceProfile", {}).get("Arn") == self.profile_arn for a in active):
                self.detail = "instance profile disassociated or replaced"
                return True
        if not self.role_name:
            self.detail = "the instance has no instance profile role to revoke"
            return False
        revoked = sessions_revoked(role_policy_documents(sandbox, self.role_name), f"role {self.role_name}",
                                   self.injected_wall)
        self.detail = revoked or f"role {self.role_name} still honours its sessions"
        return revoked is not None


class UserObserver(Observer):
    """An observer of one user (step parameter ``user``): its name and ARN are what causing calls name."""

    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        self.user = self.resource("user")
        self.user_name: str = self.user.get("user_name") or self.user["name"]
        self.resource_ids.update(v for v in (self.user_name, self.user.get("arn")) if v)


@register("access_key_deactivated", "user")
class AccessKeyDeactivated(UserObserver):
    """The access key the finding names (else every key of the user) is Inactive or deleted."""

    causing_operations = frozenset({"UpdateAccessKey", "DeleteAccessKey", "DeleteUser"})

    def __init__(self, params: dict[str, str], env: Any, finding: dict[str, Any]) -> None:
        super().__init__(params, env, finding)
        owned: set[str] = {str(key["id"]) for key in self.user.get("access_keys", [])}
        named = ((finding.get("resource") or {}).get("accessKeyDetails") or {}).get("accessKeyId")
        # A key the user does not own would count as "deleted" at once, so only owned keys are judged.
        self.key_ids: set[str] = {named} if named in owned else owned
        self.resource_ids.update(self.key_ids)

    def check(self, sandbox: Sandbox) -> bool:
        if not self.key_ids:
            self.detail = f"user {self.user_name} has no access key to deactivate"
            return False
        try:
            listed = sandbox_client(sandbox, "iam").list_access_keys(UserName=self.user_name)
        except ClientError as error:
            if not is_no_such_entity(error):
                raise
            self.detail = f"user {self.user_name} was deleted"
            return True
        status = {key["AccessKeyId"]: key["Status"] for key in listed.get("AccessKeyMetadata", [])}
        active = sorted(key for key in self.key_ids if status.get(key) == "Active")
        if active:
            self.detail = f"still active: {', '.join(active)}"
            return False
        self.detail = None
        return True


@register("console_password_removed", "user")
class ConsolePasswordRemoved(UserObserver):
    """The user has no login profile."""

    causing_operations = frozenset({"DeleteLoginProfile", "DeleteUser"})

    def check(self, sandbox: Sandbox) -> bool:
        try:
            sandbox_client(sandbox, "iam").get_login_profile(UserName=self.user_name)
        except ClientError as error:
            if not is_no_such_entity(error):
                raise
            self.detail = None if self.user.get("console_password", True) else "the user never had a password"
            return True
        self.detail = f"user {self.user_name} still has a console password"
        return False
