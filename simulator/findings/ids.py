"""AWS-shaped identifiers, drawn from a seeded random.Random so a seed reproduces them."""

from __future__ import annotations

import hashlib
import random
import re
import uuid

_UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# Access key ids use the RFC 4648 base32 alphabet after their four-letter prefix.
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

FINDING_ID = re.compile(r"^[0-9a-f]{32}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")


def hex_digits(rng: random.Random, count: int) -> str:
    return f"{rng.getrandbits(4 * count):0{count}x}"


def finding_id(rng: random.Random) -> str:
    return hex_digits(rng, 32)


def ec2_id(prefix: str, rng: random.Random) -> str:
    """i-, eni-, sg-, subnet-, vpc-, ami-, vol-, snap- ids: the prefix and 17 hex digits, the first a 0
    as in every long-format EC2 id."""
    return f"{prefix}-0{hex_digits(rng, 16)}"


def _chars(rng: random.Random, alphabet: str, count: int) -> str:
    size = len(alphabet)
    return "".join(alphabet[rng.randrange(size)] for _ in range(count))


def access_key_id(rng: random.Random, *, temporary: bool = False) -> str:
    return ("ASIA" if temporary else "AKIA") + _chars(rng, _BASE32, 16)


def unique_id(prefix: str, rng: random.Random) -> str:
    """IAM unique ids: AIDA (user), AROA (role), AIPA (instance profile) and 17 upper-case alphanumerics."""
    return prefix + _chars(rng, _UPPER_ALNUM, 17)


def stable_unique_id(prefix: str, seed_text: str) -> str:
    """A unique id derived from a name, for principals whose id the descriptor does not carry."""
    digest = hashlib.sha256(seed_text.encode()).digest()
    return prefix + "".join(_UPPER_ALNUM[byte % 36] for byte in digest[:17])


def stable_uuid(seed_text: str) -> str:
    return str(uuid.UUID(hashlib.sha256(seed_text.encode()).hexdigest()[:32], version=4))


def detector_id(account_id: str, region: str) -> str:
    """One detector per account and region, as in GuardDuty: derive it so every finding agrees."""
    return hashlib.sha256(f"detector:{account_id}:{region}".encode()).hexdigest()[:32]


_UUID_VERSION_MASK = ~(0xF000 << 64) & ~(0xC000 << 48)
_UUID_VERSION_BITS = (0x4000 << 64) | (0x8000 << 48)


def rng_uuid(rng: random.Random) -> str:
    """A version-4 UUID from the rng (same value as uuid.UUID(int=..., version=4), without its overhead)."""
    value = (rng.getrandbits(128) & _UUID_VERSION_MASK) | _UUID_VERSION_BITS
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def sha256_hex(rng: random.Random) -> str:
    return hex_digits(rng, 64)


def upper_alnum(rng: random.Random, count: int) -> str:
    return _chars(rng, _UPPER_ALNUM, count)


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def other_account(rng: random.Random, account_id: str) -> str:
    while True:
        candidate = f"{rng.randrange(10**11, 10**12):012d}"
        if candidate != account_id:
            return candidate
