"""Policy documents, applied once every resource exists so they may name one another with ${refs}
(a role allowed to read a bucket, a bucket policy naming that role and its own ARN)."""

from __future__ import annotations

import json
from typing import Any

from simulator.provision.context import BuildContext
from simulator.scenario.model import Environment


def apply_policies(ctx: BuildContext, environment: Environment) -> None:
    iam = ctx.client("iam")
    for role in environment.roles:
        role_name = ctx.env.resources[role.name]["role_name"]
        for policy_name, document in role.inline_policies.items():
            iam.put_role_policy(RoleName=role_name, PolicyName=policy_name, PolicyDocument=_text(ctx, document))
    for user in environment.users:
        user_name = ctx.env.resources[user.name]["user_name"]
        for policy_name, document in user.inline_policies.items():
            iam.put_user_policy(UserName=user_name, PolicyName=policy_name, PolicyDocument=_text(ctx, document))
    for bucket in environment.buckets:
        if bucket.policy is not None:
            ctx.client("s3").put_bucket_policy(Bucket=ctx.env.resources[bucket.name]["bucket_name"],
                                               Policy=_text(ctx, bucket.policy))


def _text(ctx: BuildContext, document: dict[str, Any]) -> str:
    return ctx.env.resolve(json.dumps(document))
