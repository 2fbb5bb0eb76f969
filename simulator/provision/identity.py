"""IAM roles (with instance profiles) and users (with access keys and console passwords)."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from botocore.exceptions import ClientError

from simulator.provision.context import BuildContext
from simulator.provision.naming import tag_dict
from simulator.scenario.model import Role, User
from simulator.targets.base import Credentials

_AWS_MANAGED = "arn:aws:iam::aws:policy/"


def build_role(ctx: BuildContext, role: Role) -> None:
    iam = ctx.client("iam")
    role_name = ctx.name(role.name, 64)
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": role.service}, "Action": "sts:AssumeRole"}]}
    created = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust),
                              Description=f"gdsim {ctx.run_id}: {role.name}",
                              Tags=ctx.tags(role.name, role.tags))["Role"]
    descriptor = ctx.register(role.name, {
        "kind": "role", "id": created["RoleId"], "arn": created["Arn"], "role_name": role_name,
        "instance_profile": None, "managed_policies": [], "tags": tag_dict(created.get("Tags")),
    })
    if role.instance_profile:
        profile = iam.create_instance_profile(InstanceProfileName=role_name,
                                              Tags=ctx.tags(role.name))["InstanceProfile"]
        descriptor["instance_profile"] = {
            "arn": profile["Arn"], "id": profile["InstanceProfileId"], "name": profile["InstanceProfileName"],
            "role_name": role_name, "role_arn": created["Arn"],
        }
        iam.add_role_to_instance_profile(InstanceProfileName=role_name, RoleName=role_name)
    descriptor["managed_policies"], descriptor["missing_managed_policies"] = _attach(
        lambda arn: iam.attach_role_policy(RoleName=role_name, PolicyArn=arn), role.managed_policies)


def build_user(ctx: BuildContext, user: User) -> None:
    iam = ctx.client("iam")
    user_name = ctx.name(user.name, 64)
    created = iam.create_user(UserName=user_name, Tags=ctx.tags(user.name, user.tags))["User"]
    descriptor = ctx.register(user.name, {
        "kind": "user", "id": created["UserId"], "arn": created["Arn"], "user_name": user_name,
        "access_keys": [], "console_password": False, "managed_policies": [],
        "tags": tag_dict(created.get("Tags")),
    })
    for _ in range(user.access_keys):
        key = iam.create_access_key(UserName=user_name)["AccessKey"]
        descriptor["access_keys"].append({"id": key["AccessKeyId"]})
        ctx.env.add_credentials(user.name, Credentials(key["AccessKeyId"], key["SecretAccessKey"]))
    if user.console_password:
        iam.create_login_profile(UserName=user_name, Password=_password(), PasswordResetRequired=False)
        descriptor["console_password"] = True
    descriptor["managed_policies"], descriptor["missing_managed_policies"] = _attach(
        lambda arn: iam.attach_user_policy(UserName=user_name, PolicyArn=arn), user.managed_policies)


def _attach(attach: Any, arns: list[str]) -> tuple[list[str], list[str]]:
    """(attached, missing): an emulator may not have AWS managed policies loaded; a real account always has."""
    attached, missing = [], []
    for arn in arns:
        try:
            attach(arn)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "NoSuchEntity" and arn.startswith(_AWS_MANAGED):
                missing.append(arn)
                continue
            raise
        attached.append(arn)
    return attached, missing


def _password() -> str:
    """A throwaway console password that satisfies any account password policy."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(28))
    return f"{body}aZ9!"
