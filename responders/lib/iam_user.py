"""Containing an IAM user: read it, deactivate the key a finding names, remove its console password,
list what else could still sign in as it, and remember on the user what was done for a finding.

Each block checks the current state first, so repeating it changes nothing.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from responders.lib.idempotency import TagMemory, step_tags
from responders.lib.instance import error_code


class KeyNotOwned(Exception):
    """The access key a finding names does not belong to the user it names."""


def describe_user(iam: Any, user_name: str) -> dict[str, Any] | None:
    """GetUser's ``User`` (with its ``Tags``), or None when there is no such user here."""
    try:
        user: dict[str, Any] = iam.get_user(UserName=user_name)["User"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise
    if "Tags" not in user:  # GetUser returns tags; ask explicitly where an implementation leaves them out
        user["Tags"] = iam.list_user_tags(UserName=user_name).get("Tags", [])
    return user


def access_keys(iam: Any, user_name: str) -> dict[str, str]:
    """access key id -> status (Active/Inactive) of the user's long-term keys."""
    listed = iam.list_access_keys(UserName=user_name)["AccessKeyMetadata"]
    return {key["AccessKeyId"]: key["Status"] for key in listed}


def deactivate_access_key(iam: Any, user_name: str, key_id: str) -> str:
    """Make ``key_id`` Inactive (never delete it: the key id ties the evidence together)."""
    status = access_keys(iam, user_name).get(key_id)
    if status is None:
        raise KeyNotOwned(f"access key {key_id} does not belong to user {user_name}")
    if status == "Inactive":
        return "already inactive"
    iam.update_access_key(UserName=user_name, AccessKeyId=key_id, Status="Inactive")
    return "deactivated"


def remove_console_password(iam: Any, user_name: str) -> str:
    """Delete the user's login profile, if it has one."""
    try:
        iam.get_login_profile(UserName=user_name)
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return "no console password"
        raise
    try:
        iam.delete_login_profile(UserName=user_name)
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":  # removed meanwhile by a concurrent delivery
            return "no console password"
        raise
    return "removed"


def remaining_credentials(iam: Any, user_name: str, *, except_key: str | None = None,
                          console_password_removed: bool = False) -> list[str]:
    """What could still authenticate as the user after containment, as short sentences for a page.

    The runbook acts only on the key the finding names; the user's other credentials are for a human
    to review. A listing that fails is reported too: unknown is not the same as none.
    """
    remaining: list[str] = []
    try:
        remaining += [f"access key {key} is still active" for key, status in sorted(access_keys(iam, user_name).items())
                      if status == "Active" and key != except_key]
    except ClientError as exc:
        remaining.append(f"could not list access keys ({error_code(exc)})")
    if not console_password_removed:
        try:
            iam.get_login_profile(UserName=user_name)
            remaining.append("the console password is still set")
        except ClientError as exc:
            if error_code(exc) != "NoSuchEntity":
                remaining.append(f"could not read the console password ({error_code(exc)})")
    for what, call, listing, id_key in (
            ("SSH public key", iam.list_ssh_public_keys, "SSHPublicKeys", "SSHPublicKeyId"),
            ("signing certificate", iam.list_signing_certificates, "Certificates", "CertificateId")):
        try:
            items = call(UserName=user_name).get(listing, [])
        except ClientError as exc:
            remaining.append(f"could not list {what}s ({error_code(exc)})")
            continue
        remaining += [f"{what} {item.get(id_key)} is still active" for item in items
                      if item.get("Status") == "Active"]
    return remaining


def mark_user(iam: Any, user_name: str, marker: str, finding_id: str) -> None:
    """Remember on the user that ``marker`` was done for ``finding_id`` (a tag; one value per marker)."""
    iam.tag_user(UserName=user_name, Tags=[{"Key": marker, "Value": finding_id}])


def user_memory(iam: Any, user_name: str, user: dict[str, Any], finding_id: str) -> TagMemory:
    """A runbook's markers on the user (``user`` as describe_user read it)."""
    return TagMemory(user, finding_id, lambda tag, value: mark_user(iam, user_name, tag, value), step_tags())
