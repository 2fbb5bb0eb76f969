"""The VPC, its subnets and security groups."""

from __future__ import annotations

from typing import Any

from simulator.provision.context import BuildContext
from simulator.provision.naming import ec2_arn, tag_dict
from simulator.scenario.model import Environment, Rule, SecurityGroup, Subnet, Vpc

_PROTOCOLS = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "all": "-1"}


def build_vpc(ctx: BuildContext, vpc: Vpc) -> None:
    ec2 = ctx.client("ec2")
    created = ec2.create_vpc(CidrBlock=vpc.cidr, TagSpecifications=ctx.tag_spec("vpc", vpc.name, vpc.tags))["Vpc"]
    ctx.register(vpc.name, {
        "kind": "vpc", "id": created["VpcId"],
        "arn": ec2_arn(ctx.env.region, ctx.env.account_id, "vpc", created["VpcId"]),
        "cidr": created["CidrBlock"], "tags": tag_dict(created.get("Tags")),
    })


def build_subnets(ctx: BuildContext, environment: Environment) -> None:
    ec2 = ctx.client("ec2")
    vpc = _vpc(ctx, environment)
    for position, subnet in enumerate(environment.subnets):
        created = ec2.create_subnet(
            VpcId=vpc["id"], CidrBlock=subnet.cidr, AvailabilityZone=_zone(ctx, subnet, position),
            TagSpecifications=ctx.tag_spec("subnet", subnet.name, subnet.tags),
        )["Subnet"]
        ctx.register(subnet.name, {
            "kind": "subnet", "id": created["SubnetId"],
            "arn": created.get("SubnetArn") or ec2_arn(ctx.env.region, ctx.env.account_id, "subnet",
                                                       created["SubnetId"]),
            "cidr": created["CidrBlock"], "vpc_id": created["VpcId"],
            "availability_zone": created["AvailabilityZone"], "tags": tag_dict(created.get("Tags")),
        })


def build_security_groups(ctx: BuildContext, environment: Environment) -> None:
    ec2 = ctx.client("ec2")
    vpc = _vpc(ctx, environment)
    for group in environment.security_groups:
        group_name = ctx.name(group.name, 255)
        created = ec2.create_security_group(
            GroupName=group_name, Description=group.description, VpcId=vpc["id"],
            TagSpecifications=ctx.tag_spec("security-group", group.name, group.tags),
        )
        group_id = created["GroupId"]
        ctx.register(group.name, {
            "kind": "security_group", "id": group_id,
            "arn": created.get("SecurityGroupArn") or ec2_arn(ctx.env.region, ctx.env.account_id,
                                                              "security-group", group_id),
            "group_name": group_name, "vpc_id": vpc["id"],
            "tags": tag_dict(ctx.tags(group.name, group.tags)),
        })
        _apply_rules(ctx, group_id, group)


def _apply_rules(ctx: BuildContext, group_id: str, group: SecurityGroup) -> None:
    ec2 = ctx.client("ec2")
    tags = ctx.tag_spec("security-group-rule", group.name)
    if group.ingress:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=_permissions(group.ingress),
                                             TagSpecifications=tags)
    if group.egress is not None:
        # The group was born with AWS's allow-all egress rule; the scenario says what egress to allow instead.
        ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        if group.egress:
            ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=_permissions(group.egress),
                                                TagSpecifications=tags)


def _permissions(rules: list[Rule]) -> list[dict[str, Any]]:
    permissions = []
    for rule in rules:
        start, end = rule.port_range()
        permission: dict[str, Any] = {
            "IpProtocol": _PROTOCOLS[rule.protocol],
            "IpRanges": [{"CidrIp": rule.cidr, **({"Description": rule.description} if rule.description else {})}],
        }
        if rule.protocol != "all":
            permission.update(FromPort=start, ToPort=end)
        permissions.append(permission)
    return permissions


def _vpc(ctx: BuildContext, environment: Environment) -> dict[str, Any]:
    if environment.vpc is None:
        raise ValueError("subnets and security groups need a VPC")  # the scenario validator prevents it
    return ctx.env.resources[environment.vpc.name]


def _zone(ctx: BuildContext, subnet: Subnet, position: int) -> str:
    if subnet.zone and len(subnet.zone) > 1:
        return subnet.zone
    # Spread subnets without a zone over the two zones every region has.
    letter = subnet.zone or "ab"[position % 2]
    return f"{ctx.env.region}{letter}"
