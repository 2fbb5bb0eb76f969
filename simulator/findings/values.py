"""Vocabulary for realistic findings: ports, domains, user agents, API calls, EC2 and database flavours.

Facts only (well-known port numbers from IANA's registry, public mining-pool and dynamic-DNS domains,
AWS API operation names from the service APIs, current EC2/RDS product names); see
fixtures/findings/SOURCES.md.
"""

from __future__ import annotations

import random

# IANA service names for the ports findings mention; GuardDuty reports other ports as "Unknown".
PORT_NAMES: dict[int, str] = {
    21: "FTP", 22: "SSH", 23: "Telnet", 25: "SMTP", 53: "DNS", 80: "HTTP", 110: "POP3", 123: "NTP",
    143: "IMAP", 389: "LDAP", 443: "HTTPS", 445: "SMB", 465: "SMTPS", 587: "SMTP", 853: "DNS over TLS",
    993: "IMAPS", 1433: "MSSQL", 3306: "MySQL", 3389: "RDP", 5432: "PostgreSQL", 5900: "VNC",
    5985: "WinRM", 5986: "WinRM", 6379: "Redis", 8080: "HTTP", 8443: "HTTPS", 9001: "Tor", 9030: "Tor",
    9200: "Elasticsearch", 9300: "Elasticsearch", 11211: "Memcached", 27017: "MongoDB",
}

# Public Monero/Bitcoin mining pools (their own published stratum endpoints).
MINING_POOL_DOMAINS = (
    "pool.supportxmr.com", "xmr.2miners.com", "gulf.moneroocean.stream", "xmr-eu1.nanopool.org",
    "xmr-us-east1.nanopool.org", "pool.hashvault.pro", "rx.unmineable.com", "xmr.f2pool.com",
    "stratum.braiins.com", "btc.viabtc.io", "ss.antpool.com", "xmr.pool.minergate.com",
)
# Free dynamic-DNS and tunnelling zones, the "abused domains" of GuardDuty's reputation findings.
ABUSED_ZONES = ("duckdns.org", "ddns.net", "no-ip.org", "ngrok-free.app", "trycloudflare.com", "hopto.org")
SUSPICIOUS_TLDS = ("top", "xyz", "click", "cyou", "rest", "icu", "monster", "zip", "sbs", "buzz")
DGA_TLDS = ("com", "net", "info", "biz", "org", "ru", "top", "xyz", "cc", "pw")


AWS_CLI_USER_AGENTS = (
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.1.79-99.167.amzn2023.x86_64 md/arch#x86_64 "
    "lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe prompt/off",
    "aws-cli/2.17.4 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#source prompt/off",
    "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 md/arch#x86_64 "
    "lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.84",
    "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.156.0",
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.44.0 "
    "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1",
    "aws-sdk-java/2.25.26 Linux/5.10.213-201.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS "
    "Java/17.0.10 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy",
)
# Penetration-testing distributions are recognised by their kernel string in the SDK user agent.
PENTEST_USER_AGENTS = {
    "KaliLinux": "aws-cli/1.32.20 Python/3.11.8 Linux/6.6.9-amd64 botocore/1.34.20 distrib/kali.2024.1",
    "ParrotLinux": "aws-cli/1.29.60 Python/3.11.2 Linux/6.5.0-13parrot1-amd64 botocore/1.31.60",
    "PentooLinux": "aws-cli/1.33.10 Python/3.12.3 Linux/6.6.30-pentoo botocore/1.34.128",
}
CONSOLE_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
KUBERNETES_USER_AGENTS = (
    "kubectl/v1.29.3 (linux/amd64) kubernetes/6813625",
    "kubectl/v1.30.1 (darwin/arm64) kubernetes/6911225",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
)

# (service endpoint, API) pairs per kind of CloudTrail activity.
API_CALLS: dict[str, tuple[tuple[str, str], ...]] = {
    "recon": (("ec2.amazonaws.com", "DescribeInstances"), ("ec2.amazonaws.com", "DescribeSecurityGroups"),
              ("iam.amazonaws.com", "ListUsers"), ("iam.amazonaws.com", "ListRoles"),
              ("iam.amazonaws.com", "GetAccountAuthorizationDetails"), ("s3.amazonaws.com", "ListBuckets"),
              ("ec2.amazonaws.com", "DescribeVpcs"), ("cloudtrail.amazonaws.com", "DescribeTrails")),
    "general": (("ec2.amazonaws.com", "RunInstances"), ("iam.amazonaws.com", "CreateUser"),
                ("iam.amazonaws.com", "AttachUserPolicy"), ("secretsmanager.amazonaws.com", "GetSecretValue"),
                ("s3.amazonaws.com", "ListBuckets"), ("ec2.amazonaws.com", "DescribeInstances"),
                ("sts.amazonaws.com", "AssumeRole"), ("lambda.amazonaws.com", "ListFunctions20150331")),
    "CredentialAccess": (("secretsmanager.amazonaws.com", "GetSecretValue"),
                         ("ssm.amazonaws.com", "GetParametersByPath"), ("ec2.amazonaws.com", "GetPasswordData")),
    "DefenseEvasion": (("ec2.amazonaws.com", "DeleteFlowLogs"), ("cloudtrail.amazonaws.com", "StopLogging"),
                       ("guardduty.amazonaws.com", "DeleteDetector"), ("config.amazonaws.com",
                                                                      "StopConfigurationRecorder")),
    "Discovery": (("s3.amazonaws.com", "ListBuckets"), ("ec2.amazonaws.com", "DescribeInstances"),
                  ("iam.amazonaws.com", "ListUsers"), ("iam.amazonaws.com", "ListAttachedRolePolicies")),
    "Exfiltration": (("ec2.amazonaws.com", "ModifySnapshotAttribute"), ("ec2.amazonaws.com", "ModifyImageAttribute"),
                     ("s3.amazonaws.com", "PutBucketReplication")),
    "Impact": (("ec2.amazonaws.com", "TerminateInstances"), ("ec2.amazonaws.com", "DeleteSecurityGroup"),
               ("s3.amazonaws.com", "DeleteBucket"), ("rds.amazonaws.com", "DeleteDBInstance")),
    "InitialAccess": (("ssm.amazonaws.com", "StartSession"), ("sts.amazonaws.com", "GetSessionToken"),
                      ("sts.amazonaws.com", "GetFederationToken")),
    "Persistence": (("iam.amazonaws.com", "CreateAccessKey"), ("iam.amazonaws.com", "CreateLoginProfile"),
                    ("ec2.amazonaws.com", "ImportKeyPair"), ("iam.amazonaws.com", "CreateUser")),
    "PrivilegeEscalation": (("iam.amazonaws.com", "AttachUserPolicy"), ("iam.amazonaws.com", "PutUserPolicy"),
                            ("iam.amazonaws.com", "AttachRolePolicy"), ("iam.amazonaws.com",
                                                                         "CreatePolicyVersion")),
    "CloudTrailLoggingDisabled": (("cloudtrail.amazonaws.com", "StopLogging"),
                                  ("cloudtrail.amazonaws.com", "DeleteTrail")),
    "PasswordPolicyChange": (("iam.amazonaws.com", "UpdateAccountPasswordPolicy"),
                             ("iam.amazonaws.com", "DeleteAccountPasswordPolicy")),
    "BedrockLoggingDisabled": (("bedrock.amazonaws.com", "DeleteModelInvocationLoggingConfiguration"),),
    "ConsoleLogin": (("signin.amazonaws.com", "ConsoleLogin"),),
    "s3-read": (("s3.amazonaws.com", "GetObject"), ("s3.amazonaws.com", "ListObjects"),
                ("s3.amazonaws.com", "ListObjectsV2")),
    "s3-discovery": (("s3.amazonaws.com", "ListObjects"), ("s3.amazonaws.com", "GetBucketAcl"),
                     ("s3.amazonaws.com", "GetBucketPolicy"), ("s3.amazonaws.com", "GetBucketLocation")),
    "s3-delete": (("s3.amazonaws.com", "DeleteObject"), ("s3.amazonaws.com", "DeleteObjects")),
    "s3-permission": (("s3.amazonaws.com", "PutBucketAcl"), ("s3.amazonaws.com", "PutObjectAcl"),
                      ("s3.amazonaws.com", "PutBucketPolicy")),
    "s3-write": (("s3.amazonaws.com", "PutObject"), ("s3.amazonaws.com", "CopyObject")),
    "s3-any": (("s3.amazonaws.com", "GetObject"), ("s3.amazonaws.com", "PutObject"),
               ("s3.amazonaws.com", "ListObjects")),
    "s3-account-bpa": (("s3.amazonaws.com", "PutAccountPublicAccessBlock"),),
    "s3-bucket-bpa": (("s3.amazonaws.com", "PutBucketPublicAccessBlock"),
                      ("s3.amazonaws.com", "DeleteBucketPublicAccessBlock")),
    "s3-anonymous": (("s3.amazonaws.com", "PutBucketAcl"), ("s3.amazonaws.com", "PutBucketPolicy")),
    "s3-public": (("s3.amazonaws.com", "PutBucketPolicy"), ("s3.amazonaws.com", "PutBucketAcl")),
    "s3-logging": (("s3.amazonaws.com", "PutBucketLogging"),),
}

INSTANCE_TYPES = ("t3.micro", "t3.medium", "t3a.large", "m5.large", "m5.xlarge", "m6i.large", "c5.2xlarge",
                  "c6g.xlarge", "r5.large", "m7g.medium", "g4dn.xlarge")
LINUX_IMAGES = (
    "Amazon Linux 2023 AMI 2023.4.20240401.1 x86_64 HVM kernel-6.1",
    "Amazon Linux 2 Kernel 5.10 AMI 2.0.20240329.0 x86_64 HVM gp2",
    "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2024-03-01",
    "Canonical, Ubuntu, 24.04 LTS, amd64 noble image build on 2024-04-23",
    "Debian 12 (20240211-1654)",
)
WINDOWS_IMAGES = ("Microsoft Windows Server 2022 Full Locale English AMI provided by Amazon",
                  "Microsoft Windows Server 2019 with Desktop Experience Locale English AMI provided by Amazon")
RDS_ENGINES = (("aurora-postgresql", "15.4"), ("aurora-mysql", "8.0.mysql_aurora.3.05.2"),
               ("postgres", "16.2"), ("mysql", "8.0.36"))
DB_APPLICATIONS = ("psql", "pgAdmin 4", "mysql", "DBeaver 24.0.2", "python-psycopg2", "JDBC")
CONTAINER_IMAGES = ("nginx:1.25.4", "public.ecr.aws/docker/library/python:3.12-slim",
                    "public.ecr.aws/amazonlinux/amazonlinux:2023", "redis:7.2", "node:20-alpine",
                    "busybox:1.36", "ubuntu:22.04")
ENVIRONMENTS = ("prod", "staging", "dev", "qa")


def pick(rng: random.Random, options):  # type: ignore[no-untyped-def]
    """rng.choice without the per-call overhead of choice's generality (hot path)."""
    return options[below(rng, len(options))]


def port_details(port: int) -> dict:
    return {"port": port, "portName": PORT_NAMES.get(port, "Unknown")}


def ephemeral_port(rng: random.Random) -> int:
    return 32768 + below(rng, 28232)


_CONSONANTS = "bcdfghjklmnpqrstvwxz"
_VOWELS = "aeiouy"
_DGA_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def dga_domain(rng: random.Random) -> str:
    """A domain shaped like a domain-generation algorithm's output: long, random, high entropy."""
    length = 12 + below(rng, 12)
    label = "".join(_DGA_ALPHABET[below(rng, 26 if i == 0 else 36)] for i in range(length))
    return f"{label}.{pick(rng, DGA_TLDS)}"


def pronounceable(rng: random.Random, syllables: int) -> str:
    return "".join(_CONSONANTS[below(rng, 20)] + _VOWELS[below(rng, 6)] for _ in range(syllables))


def exfil_domain(rng: random.Random, zone: str) -> str:
    """A DNS-tunnelling query: base32-looking labels carrying data under an attacker's zone."""
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    labels = ["".join(alphabet[below(rng, 32)] for _ in range(between(rng, 40, 63))) for _ in range(2)]
    return ".".join((*labels, zone))


def rebind_domain(public_address: str) -> str:
    """A rebinding name that alternates between a public address and the metadata service (169.254.169.254)."""
    packed = "".join(f"{int(part):02x}" for part in public_address.split("."))
    return f"{packed}.a9fea9fe.rbndr.us"


def below(rng: random.Random, count: int) -> int:
    """A uniform integer in [0, count): rng.randrange's distribution at a tenth of its cost (hot path)."""
    return int(rng.random() * count)


def between(rng: random.Random, low: int, high: int) -> int:
    """A uniform integer in [low, high)."""
    return low + int(rng.random() * (high - low))
