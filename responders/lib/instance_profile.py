"""Which role an instance's credentials come from, and taking its instance profile away.

The role is read from the instance's own profile association, never taken on a finding's word. Before
the association is removed, the role's name is tagged on the instance, so a retry after a partial
failure (or a repeat delivery) still knows which role the instance carried.
"""

from __future__ import annotations

from typing import Any

from responders.lib.credentials import ROLE_TAG, detach_profiles, profile_associations, roles_of_profile
from responders.lib.idempotency import tags_of


def roles_of_instance(ec2: Any, iam: Any, instance: dict[str, Any]) -> set[str]:
    """Roles of the instance's current profile, plus any remembered from a profile this runbook removed."""
    associations = profile_associations(ec2, instance["InstanceId"])
    roles = {role for a in associations for role in roles_of_profile(iam, a["IamInstanceProfile"]["Arn"])}
    remembered = tags_of(instance).get(ROLE_TAG) or ""
    return roles | {name for name in remembered.split(",") if name}


def remove_instance_profile(ec2: Any, iam: Any, instance: dict[str, Any]) -> list[str]:
    """Disassociate every profile of the instance (remembering its roles first); returns the association ids."""
    instance_id = instance["InstanceId"]
    associations = profile_associations(ec2, instance_id)
    if not associations:
        return []
    roles = roles_of_instance(ec2, iam, instance)
    if roles and tags_of(instance).get(ROLE_TAG) != ",".join(sorted(roles)):
        ec2.create_tags(Resources=[instance_id], Tags=[{"Key": ROLE_TAG, "Value": ",".join(sorted(roles))}])
    return detach_profiles(ec2, associations)
