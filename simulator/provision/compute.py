"""Instances: a machine image, root and data volumes, an instance profile, network interfaces."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from simulator.provision.clients import is_emulator
from simulator.provision.context import BuildContext
from simulator.provision.errors import ProvisionError
from simulator.provision.naming import ec2_arn, tag_dict
from simulator.scenario.model import Environment, Instance

# The stock image on a real account: Amazon Linux 2023, as AWS publishes it in SSM.
STOCK_IMAGE_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
IMAGE_LOGICAL_NAME = "gdsim-image"
# A new instance profile takes a few seconds to become usable in EC2 on AWS.
_PROFILE_PROPAGATION_SECONDS = 30.0


@dataclass(frozen=True)
class Image:
    id: str
    root_device: str


def resolve_images(ctx: BuildContext, environment: Environment) -> dict[str, Image]:
    """The image each instance boots, by instance name."""
    if not environment.instances:
        return {}
    chosen = {instance.name: instance.image for instance in environment.instances}
    if any(image is None for image in chosen.values()):
        stock = _stock_image(ctx)
        chosen = {name: image or stock for name, image in chosen.items()}
    ids = sorted({image for image in chosen.values() if image})
    described = ctx.client("ec2").describe_images(ImageIds=ids)["Images"]
    roots = {image["ImageId"]: image.get("RootDeviceName") or "/dev/xvda" for image in described}
    missing = [image for image in ids if image not in roots]
    if missing:
        # AWS refuses unknown ids in DescribeImages; an emulator may just leave them out.
        raise ProvisionError(f"no machine image {', '.join(missing)} in this sandbox's region")
    return {name: Image(image, roots.get(image, "/dev/xvda")) for name, image in chosen.items() if image}


def _stock_image(ctx: BuildContext) -> str:
    if not is_emulator(ctx.sandbox):
        return ctx.client("ssm").get_parameter(Name=STOCK_IMAGE_PARAMETER)["Parameter"]["Value"]
    # Emulators start with no images (or a long default list that slows every snapshot query): register one.
    ec2 = ctx.client("ec2")
    image_id = ec2.register_image(
        Name=ctx.name("linux", 128), Description="gdsim stock Linux image", Architecture="x86_64",
        RootDeviceName="/dev/xvda", VirtualizationType="hvm",
    )["ImageId"]
    ctx.env.support.append({"kind": "image", "id": image_id})
    ec2.create_tags(Resources=[image_id], Tags=ctx.tags(IMAGE_LOGICAL_NAME))
    return image_id


def build_instances(ctx: BuildContext, environment: Environment, images: dict[str, Image]) -> None:
    ec2 = ctx.client("ec2")
    default_groups = [environment.security_groups[0].name] if environment.security_groups else []
    launched: list[tuple[Instance, str]] = []
    for instance in environment.instances:
        instance_id = _launch(ctx, instance, images[instance.name], instance.security_groups or default_groups)
        launched.append((instance, instance_id))
    if not launched:
        return
    ids = [instance_id for _, instance_id in launched]
    if not is_emulator(ctx.sandbox):
        ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig={"Delay": 3, "MaxAttempts": 60})
    described = describe_instances(ec2, ids)
    for instance, instance_id in launched:
        _describe(ctx, instance, described[instance_id])


# Instance ids per DescribeInstances request: a bounded request size, whatever the fleet.
DESCRIBE_BATCH = 100


def describe_instances(ec2: Any, instance_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Instance id -> its DescribeInstances item, for any number of ids.

    Answers come a page at a time (the emulator stops at 100 reservations and returns a NextToken), so
    the paginator follows the tokens; ids go in batches so no request grows with the fleet.
    """
    paginator = ec2.get_paginator("describe_instances")
    described: dict[str, dict[str, Any]] = {}
    for start in range(0, len(instance_ids), DESCRIBE_BATCH):
        for page in paginator.paginate(InstanceIds=instance_ids[start:start + DESCRIBE_BATCH]):
            for reservation in page.get("Reservations", []):
                described.update((item["InstanceId"], item) for item in reservation.get("Instances", []))
    return described


def _launch(ctx: BuildContext, instance: Instance, image: Image, group_names: list[str]) -> str:
    ec2 = ctx.client("ec2")
    resources = ctx.env.resources
    subnet_id = resources[instance.subnet]["id"]
    group_ids = [resources[name]["id"] for name in group_names]
    mappings = [{"DeviceName": image.root_device,
                 "Ebs": {"VolumeSize": instance.root_size_gb, "VolumeType": "gp3", "DeleteOnTermination": True}}]
    mappings += [{"DeviceName": volume.device,
                  "Ebs": {"VolumeSize": volume.size_gb, "VolumeType": volume.type, "DeleteOnTermination": True}}
                 for volume in instance.volumes]
    request: dict[str, Any] = {
        "ImageId": image.id, "InstanceType": instance.instance_type, "MinCount": 1, "MaxCount": 1,
        "SubnetId": subnet_id, "SecurityGroupIds": group_ids, "BlockDeviceMappings": mappings,
        "ClientToken": ctx.name(instance.name, 64),
        "TagSpecifications": [*ctx.tag_spec("instance", instance.name, instance.tags),
                              *ctx.tag_spec("volume", instance.name, instance.tags)],
    }
    if instance.role is not None:
        request["IamInstanceProfile"] = {"Arn": resources[instance.role]["instance_profile"]["arn"]}
    launched = _run_instance(ctx, request)
    instance_id = launched["InstanceId"]
    descriptor = ctx.register(instance.name, {"kind": "instance", "id": instance_id, "network_interfaces": [],
                                              "volumes": [], "elastic_ip": None})
    primary = [nic["NetworkInterfaceId"] for nic in launched.get("NetworkInterfaces", [])]
    if primary:
        ec2.create_tags(Resources=primary, Tags=ctx.tags(instance.name))
    for index in range(1, instance.extra_interfaces + 1):
        nic = ec2.create_network_interface(
            SubnetId=subnet_id, Groups=group_ids, Description=f"{instance.name} interface {index}",
            TagSpecifications=ctx.tag_spec("network-interface", instance.name))["NetworkInterface"]
        descriptor["network_interfaces"].append({"id": nic["NetworkInterfaceId"]})
        ec2.attach_network_interface(NetworkInterfaceId=nic["NetworkInterfaceId"], InstanceId=instance_id,
                                     DeviceIndex=index)
    if instance.public_ip:
        address = ec2.allocate_address(Domain="vpc", TagSpecifications=ctx.tag_spec("elastic-ip", instance.name))
        descriptor["elastic_ip"] = {"allocation_id": address["AllocationId"], "public_ip": address["PublicIp"]}
        ec2.associate_address(AllocationId=address["AllocationId"], InstanceId=instance_id)
    return instance_id


def _run_instance(ctx: BuildContext, request: dict[str, Any]) -> dict[str, Any]:
    ec2 = ctx.client("ec2")
    deadline = time.monotonic() + _PROFILE_PROPAGATION_SECONDS
    delay = 1.0
    while True:
        try:
            return ec2.run_instances(**request)["Instances"][0]
        except ClientError as exc:
            error = exc.response["Error"]
            propagating = error["Code"] == "InvalidParameterValue" and "iamInstanceProfile" in error.get("Message", "")
            if not propagating or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 8.0)


def _describe(ctx: BuildContext, instance: Instance, raw: dict[str, Any]) -> None:
    """Fill the instance's descriptor from DescribeInstances: the real ENIs, addresses and volumes."""
    descriptor = ctx.env.resources[instance.name]
    sizes = {volume.device: volume.size_gb for volume in instance.volumes}
    root_device = raw.get("RootDeviceName")
    interfaces = sorted(raw.get("NetworkInterfaces", []),
                        key=lambda nic: nic.get("Attachment", {}).get("DeviceIndex", 0))
    profile = None
    if instance.role is not None:
        profile = ctx.env.resources[instance.role]["instance_profile"]
    descriptor.update({
        "arn": ec2_arn(ctx.env.region, ctx.env.account_id, "instance", raw["InstanceId"]),
        "image_id": raw["ImageId"],
        "instance_type": raw["InstanceType"],
        "launch_time": raw["LaunchTime"].isoformat(),
        "availability_zone": raw["Placement"]["AvailabilityZone"],
        "vpc_id": raw["VpcId"],
        "subnet_id": raw["SubnetId"],
        "private_ip": raw["PrivateIpAddress"],
        "private_dns": raw.get("PrivateDnsName", ""),
        "public_ip": raw.get("PublicIpAddress"),
        "security_groups": [{"id": group["GroupId"], "name": group["GroupName"]} for group in raw["SecurityGroups"]],
        "network_interfaces": [{
            "id": nic["NetworkInterfaceId"],
            "device_index": nic.get("Attachment", {}).get("DeviceIndex", 0),
            "private_ip": nic.get("PrivateIpAddress"),
            "private_dns": nic.get("PrivateDnsName") or _dns_name(ctx, nic.get("PrivateIpAddress")),
            "subnet_id": nic.get("SubnetId"),
            "vpc_id": nic.get("VpcId"),
            "public_ip": (nic.get("Association") or {}).get("PublicIp"),
            "security_groups": [{"id": group["GroupId"], "name": group["GroupName"]} for group in nic["Groups"]],
            "ipv6_addresses": [address["Ipv6Address"] for address in nic.get("Ipv6Addresses", [])],
        } for nic in interfaces],
        "instance_profile": dict(profile) if profile else None,
        "volumes": [{
            "id": mapping["Ebs"]["VolumeId"],
            "device": mapping["DeviceName"],
            "root": mapping["DeviceName"] == root_device,
            "size_gb": instance.root_size_gb if mapping["DeviceName"] == root_device
            else sizes.get(mapping["DeviceName"]),
        } for mapping in raw.get("BlockDeviceMappings", []) if "Ebs" in mapping],
        "tags": tag_dict(raw.get("Tags")),
    })


def _dns_name(ctx: BuildContext, private_ip: str | None) -> str:
    if not private_ip:
        return ""
    suffix = "ec2.internal" if ctx.env.region == "us-east-1" else f"{ctx.env.region}.compute.internal"
    return f"ip-{private_ip.replace('.', '-')}.{suffix}"
