"""Plausible resources for findings that are not bound to provisioned ones.

Each function returns a descriptor in the same snake_case shape simulator.provision produces (contract 1:
instance, user, role, bucket), or an internal descriptor for kinds the harness does not provision (EKS
cluster, database, Lambda function, ECS cluster, container). The wire conversion in resources.py then
treats bound and synthetic resources alike.
"""

from __future__ import annotations

import random

from simulator.findings import ids
from simulator.findings.clock import iso_ms
from simulator.findings.networks import host_in
from simulator.findings.pools import Pools
from simulator.findings.values import (
    CONTAINER_IMAGES,
    ENVIRONMENTS,
    INSTANCE_TYPES,
    LINUX_IMAGES,
    RDS_ENGINES,
    WINDOWS_IMAGES,
    pick,
)

DAY_MS = 86_400_000
# EC2 public address blocks per region (AWS ip-ranges.json, service EC2); others fall back to us-east-1's.
EC2_PUBLIC_BLOCKS = {
    "us-east-1": "3.80.0.0/12", "us-east-2": "3.128.0.0/12", "us-west-2": "34.208.0.0/12",
    "eu-west-1": "34.240.0.0/13", "eu-central-1": "3.64.0.0/12", "ap-southeast-1": "13.212.0.0/15",
}


def _private_dns(ip: str, region: str) -> str:
    suffix = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
    return f"ip-{ip.replace('.', '-')}.{suffix}"


def public_dns(ip: str, region: str) -> str:
    zone = "compute-1.amazonaws.com" if region == "us-east-1" else f"{region}.compute.amazonaws.com"
    return f"ec2-{ip.replace('.', '-')}.{zone}"


def _tags(pools: Pools, rng: random.Random, name: str) -> dict[str, str]:
    person = pick(rng, pools.people)
    return {"Name": name, "Environment": pick(rng, ENVIRONMENTS), "Owner": person[1],
            "Team": pick(rng, pools.teams), "CostCenter": f"cc-{rng.randrange(1000, 9999)}"}


def instance(pools: Pools, rng: random.Random, account: str, region: str, day_ms: int, *,
             windows: bool = False) -> dict:
    name = pick(rng, pools.hostnames)
    instance_id = ids.ec2_id("i", rng)
    vpc_id, subnet_id = ids.ec2_id("vpc", rng), ids.ec2_id("subnet", rng)
    second_octet = rng.randrange(256)
    private_ip = f"10.{second_octet}.{rng.randrange(256)}.{rng.randrange(4, 251)}"
    public_ip = host_in(EC2_PUBLIC_BLOCKS.get(region, "3.80.0.0/12"), rng) if rng.random() < 0.7 else None
    group = {"id": ids.ec2_id("sg", rng), "name": f"{name}-sg"}
    role_name = f"{name}-role"
    profile = {"arn": f"arn:{ids.partition_of(region)}:iam::{account}:instance-profile/{role_name}",
               "id": ids.unique_id("AIPA", rng), "name": role_name, "role_name": role_name,
               "role_arn": f"arn:{ids.partition_of(region)}:iam::{account}:role/{role_name}"}
    launched = day_ms - (2 + rng.randrange(400)) * DAY_MS + rng.randrange(DAY_MS)
    image_description = pick(rng, WINDOWS_IMAGES if windows else LINUX_IMAGES)
    return {
        "kind": "instance", "name": name, "id": instance_id,
        "arn": f"arn:{ids.partition_of(region)}:ec2:{region}:{account}:instance/{instance_id}",
        "image_id": ids.ec2_id("ami", rng), "instance_type": pick(rng, INSTANCE_TYPES),
        "launch_time": iso_ms(launched - launched % 1000),
        "availability_zone": region + "abc"[rng.randrange(3)],
        "vpc_id": vpc_id, "subnet_id": subnet_id, "private_ip": private_ip,
        "private_dns": _private_dns(private_ip, region), "public_ip": public_ip,
        "security_groups": [group],
        "network_interfaces": [{"id": ids.ec2_id("eni", rng), "private_ip": private_ip,
                                "private_dns": _private_dns(private_ip, region), "subnet_id": subnet_id,
                                "vpc_id": vpc_id, "public_ip": public_ip, "security_groups": [group],
                                "ipv6_addresses": []}],
        "instance_profile": profile if rng.random() < 0.85 else None,
        "volumes": [{"id": ids.ec2_id("vol", rng), "device": "/dev/xvda"}],
        "tags": _tags(pools, rng, name),
        "platform": "windows" if windows else None, "image_description": image_description,
    }


def user(pools: Pools, rng: random.Random, account: str, region: str) -> dict:
    user_name = pick(rng, pools.user_names)
    return {"kind": "user", "name": user_name, "id": ids.unique_id("AIDA", rng),
            "arn": f"arn:{ids.partition_of(region)}:iam::{account}:user/{user_name}", "user_name": user_name,
            "access_keys": [{"id": ids.access_key_id(rng)}], "console_password": rng.random() < 0.5, "tags": {}}


def role(pools: Pools, rng: random.Random, account: str, region: str) -> dict:
    role_name = f"{pick(rng, pools.words)}-{pick(rng, ('deploy', 'app', 'ci', 'lambda', 'ops'))}-role"
    return {"kind": "role", "name": role_name, "id": ids.unique_id("AROA", rng),
            "arn": f"arn:{ids.partition_of(region)}:iam::{account}:role/{role_name}", "role_name": role_name,
            "instance_profile": None}


def bucket(pools: Pools, rng: random.Random, account: str, region: str, day_ms: int) -> dict:
    name = f"{pick(rng, pools.companies)}-{pick(rng, pools.words)}-{pick(rng, ENVIRONMENTS)}-{ids.hex_digits(rng, 6)}"
    name = name[:63].strip("-")
    created = day_ms - (30 + rng.randrange(900)) * DAY_MS + rng.randrange(DAY_MS)
    return {"kind": "bucket", "name": name, "id": name, "arn": f"arn:{ids.partition_of(region)}:s3:::{name}",
            "bucket_name": name, "tags": {"Environment": pick(rng, ENVIRONMENTS), "Team": pick(rng, pools.teams)},
            "created_ms": created, "owner_id": ids.hex_digits(rng, 64),
            "kms": rng.random() < 0.4}


def eks_cluster(pools: Pools, rng: random.Random, account: str, region: str, day_ms: int) -> dict:
    name = f"{pick(rng, pools.words)}-{pick(rng, ENVIRONMENTS)}-eks"
    return {"kind": "eks_cluster", "name": name, "id": name,
            "arn": f"arn:{ids.partition_of(region)}:eks:{region}:{account}:cluster/{name}",
            "vpc_id": ids.ec2_id("vpc", rng), "created_ms": day_ms - (10 + rng.randrange(600)) * DAY_MS,
            "tags": {"Environment": pick(rng, ENVIRONMENTS)}}


def db_instance(pools: Pools, rng: random.Random, account: str, region: str) -> dict:
    engine, version = pick(rng, RDS_ENGINES)
    cluster = f"{pick(rng, pools.words)}-{pick(rng, ENVIRONMENTS)}"
    identifier = f"{cluster}-instance-{1 + rng.randrange(3)}"
    return {"kind": "db_instance", "name": identifier, "id": identifier, "engine": engine,
            "engine_version": version,
            "cluster_id": cluster if engine.startswith("aurora") else None,
            "arn": f"arn:{ids.partition_of(region)}:rds:{region}:{account}:db:{identifier}",
            "resource_id": "db-" + ids.upper_alnum(rng, 26),
            "shard_group": f"{cluster}-shards", "shard_group_resource_id": "shardgroup-" + ids.hex_digits(rng, 24),
            "tags": {"Environment": pick(rng, ENVIRONMENTS)},
            "database": pick(rng, pools.words), "db_user": pick(rng, ("app", "admin", "postgres", "reporting",
                                                                       "root", pick(rng, pools.user_names)))}


def function(pools: Pools, rng: random.Random, account: str, region: str, day_ms: int) -> dict:
    name = f"{pick(rng, pools.words)}-{pick(rng, pools.words)}-handler"
    partition = ids.partition_of(region)
    in_vpc = rng.random() < 0.5
    return {"kind": "function", "name": name, "id": name,
            "arn": f"arn:{partition}:lambda:{region}:{account}:function:{name}",
            "role": f"arn:{partition}:iam::{account}:role/service-role/{name}-role-{ids.hex_digits(rng, 8)}",
            "modified_ms": day_ms - rng.randrange(200) * DAY_MS - rng.randrange(DAY_MS),
            "revision_id": ids.rng_uuid(rng), "description": f"{pick(rng, pools.words)} worker",
            "vpc": {"vpc_id": ids.ec2_id("vpc", rng), "subnet_ids": [ids.ec2_id("subnet", rng)],
                    "security_groups": [{"id": ids.ec2_id("sg", rng), "name": f"{name}-sg"}]} if in_vpc else None,
            "tags": {"Environment": pick(rng, ENVIRONMENTS)}}


def container(pools: Pools, rng: random.Random) -> dict:
    image = pick(rng, CONTAINER_IMAGES)
    return {"kind": "container", "name": f"{pick(rng, pools.words)}-{ids.hex_digits(rng, 5)}",
            "id": ids.hex_digits(rng, 64), "image": image,
            "image_prefix": image.split("/")[0] if "/" in image else "docker.io",
            "runtime": pick(rng, ("containerd", "docker"))}


def ecs_cluster(pools: Pools, rng: random.Random, account: str, region: str, day_ms: int) -> dict:
    name = f"{pick(rng, pools.words)}-{pick(rng, ENVIRONMENTS)}"
    partition = ids.partition_of(region)
    family = pick(rng, pools.words)
    task_id = ids.hex_digits(rng, 32)
    started = day_ms - rng.randrange(20) * DAY_MS - rng.randrange(DAY_MS)
    return {"kind": "ecs_cluster", "name": name, "id": name,
            "arn": f"arn:{partition}:ecs:{region}:{account}:cluster/{name}",
            "task_arn": f"arn:{partition}:ecs:{region}:{account}:task/{name}/{task_id}",
            "task_definition_arn": f"arn:{partition}:ecs:{region}:{account}:task-definition/{family}:"
                                   f"{1 + rng.randrange(40)}",
            "task_version": str(1 + rng.randrange(40)), "started_ms": started,
            "launch_type": pick(rng, ("FARGATE", "EC2")), "group": f"service:{family}",
            "services": 1 + rng.randrange(12), "tasks": 1 + rng.randrange(40),
            "container_instances": rng.randrange(8), "tags": {"Environment": pick(rng, ENVIRONMENTS)},
            "container": container(pools, rng)}
