"""Revoking sessions already handed out: a deny-all policy for tokens issued before a moment.

Deactivating a key stops new calls with it, but temporary credentials it (or a role) issued stay valid
until they expire. IAM's "Revoke active sessions" attaches an inline policy that denies everything to
tokens whose ``aws:TokenIssueTime`` is older than now; the same works on an IAM user, whose own
temporary credentials (GetSessionToken, GetFederationToken) carry the condition key while its
long-term key calls do not, so the user's key, once reactivated, is unaffected.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

REVOKE_POLICY_NAME = "gdsim-revoke-older-sessions"


def _moment(when: datetime | None) -> str:
    return (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def revocation_document(moment: str) -> dict[str, Any]:
    """Deny every action on every resource to tokens issued before ``moment`` (ISO-8601, UTC)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "RevokeOlderSessions",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": moment}},
        }],
    }


def revoke_user_sessions(iam: Any, user_name: str, when: datetime | None = None) -> str:
    """Put the revocation policy on the user (replacing an older cut-off); returns the cut-off."""
    moment = _moment(when)
    iam.put_user_policy(UserName=user_name, PolicyName=REVOKE_POLICY_NAME,
                        PolicyDocument=json.dumps(revocation_document(moment)))
    return moment


def revoke_role_sessions(iam: Any, role_name: str, when: datetime | None = None) -> str:
    """Put the revocation policy on the role (replacing an older cut-off); returns the cut-off."""
    moment = _moment(when)
    iam.put_role_policy(RoleName=role_name, PolicyName=REVOKE_POLICY_NAME,
                        PolicyDocument=json.dumps(revocation_document(moment)))
    return moment
