"""S3 buckets and SNS topics."""

from __future__ import annotations

from simulator.provision.context import BuildContext
from simulator.provision.naming import tag_dict
from simulator.scenario.model import Bucket, Topic

_BLOCK_ALL = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
              "RestrictPublicBuckets": True}


def build_bucket(ctx: BuildContext, bucket: Bucket) -> None:
    s3 = ctx.client("s3")
    bucket_name = ctx.name(bucket.name, 63, lower=True)
    request: dict[str, object] = {"Bucket": bucket_name}
    if ctx.env.region != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": ctx.env.region}
    s3.create_bucket(**request)
    tags = ctx.tags(bucket.name, bucket.tags)
    ctx.register(bucket.name, {"kind": "bucket", "id": bucket_name, "arn": f"arn:aws:s3:::{bucket_name}",
                               "bucket_name": bucket_name, "tags": tag_dict(tags)})
    s3.put_bucket_tagging(Bucket=bucket_name, Tagging={"TagSet": tags})
    if bucket.block_public_access:
        s3.put_public_access_block(Bucket=bucket_name, PublicAccessBlockConfiguration=_BLOCK_ALL)
    if bucket.versioning:
        s3.put_bucket_versioning(Bucket=bucket_name, VersioningConfiguration={"Status": "Enabled"})
    for key, body in bucket.objects.items():
        s3.put_object(Bucket=bucket_name, Key=key, Body=body.encode())


def build_topic(ctx: BuildContext, topic: Topic) -> None:
    topic_name = ctx.name(topic.name, 256)
    tags = ctx.tags(topic.name, topic.tags)
    arn = ctx.client("sns").create_topic(Name=topic_name, Tags=tags)["TopicArn"]
    ctx.register(topic.name, {"kind": "topic", "id": arn, "arn": arn, "topic_name": topic_name,
                              "tags": tag_dict(tags)})
