"""Cutting off role credentials: remove an instance's profile and revoke the role's existing sessions.

Removing the profile stops new credentials reaching the instance; credentials already handed out stay
valid until they expire, so the role also gets a deny-all policy for sessions issued before now (what
the IAM console's "Revoke active sessions" does).
"""

from __future__ import annotations

import re
from typing import Any

from responders.lib.idempotency import tags_of
from responders.lib.sessions import revoke_role_sessions

ROLE_TAG = "gdsim:instance-role"
_PROFILE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:instance-profile/(?:[\w+=,.@/-]*/)?([\w+=,.@-]{1,128})$")


def profile_name(profile_arn: str) -> str | None:
    """The instance profile's name from its ARN (None if it is not an instance profile ARN)."""
    match = _PROFILE_ARN.match(profile_arn or "")
    return match.group(1) if match else None


def profile_associations(ec2: Any, instance_id: str) -> list[dict[str, Any]]:
    """The instance's current profile associations (associated or associating)."""
    found = ec2.describe_iam_instance_profile_associations(Filters=[
        {"Name": "instance-id", "Values": [instance_id]}])["IamInstanceProfileAssociations"]
    return [a for a in found if a.get("State") in ("associated", "associating")]


def roles_of_profile(iam: Any, profile_arn: str) -> list[str]:
    name = profile_name(profile_arn)
    if name is None:
        return []
    profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    return [role["RoleName"] for role in profile.get("Roles", [])]


def detach_profiles(ec2: Any, associations: list[dict[str, Any]]) -> list[str]:
    """Disassociate each association; returns the association ids removed."""
    for association in associations:
        ec2.disassociate_iam_instance_profile(AssociationId=association["AssociationId"])
    return [a["AssociationId"] for a in associations]


def revoke_instance_credentials(ec2: Any, iam: Any, instance: dict[str, Any]) -> dict[str, Any]:
    """Detach the instance's profile and revoke older sessions of its role.

    The role is read from the instance's own profile association, never from the finding (which could
    name any role). Before the association is removed the role's name is tagged on the instance, so a
    retry after a partial failure still knows which role to revoke.
    """
    instance_id = instance["InstanceId"]
    associations = profile_associations(ec2, instance_id)
    roles = {role for a in associations for role in roles_of_profile(iam, a["IamInstanceProfile"]["Arn"])}
    remembered = tags_of(instance).get(ROLE_TAG)
    if roles and remembered not in roles:
        ec2.create_tags(Resources=[instance_id], Tags=[{"Key": ROLE_TAG, "Value": ",".join(sorted(roles))}])
    if remembered:
        roles.update(name for name in remembered.split(",") if name)
    removed = detach_profiles(ec2, associations)
    revoked_before = {role: revoke_role_sessions(iam, role) for role in sorted(roles)}
    return {"disassociated": removed, "roles": sorted(roles), "sessions_revoked_before": revoked_before}
