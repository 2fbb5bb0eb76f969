"""Who holds an access key, for CloudTrail's ``userIdentity`` and ``Username``."""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

_TAG = "<{0}>([^<]*)</{0}>"


@dataclass(frozen=True)
class Identity:
    """``type`` is CloudTrail's userIdentity.type: IAMUser, AssumedRole, Root."""

    type: str
    user_name: str
    arn: str
    principal_id: str
    account_id: str


Resolver = Callable[[str], Identity | None]


class Identities:
    """Access key -> identity: registered ones first, then the resolver (cached), else the account root."""

    def __init__(self, account_id: str, resolver: Resolver | None = None) -> None:
        self.account_id = account_id
        self._resolver = resolver
        self._known: dict[str, Identity] = {}
        self._lock = threading.Lock()

    def register(self, access_key_id: str, identity: Identity) -> None:
        with self._lock:
            self._known[access_key_id] = identity

    def resolve(self, access_key_id: str) -> Identity:
        with self._lock:
            known = self._known.get(access_key_id)
        if known is not None:
            return known
        identity = self._resolver(access_key_id) if self._resolver and access_key_id else None
        identity = identity or self.root()
        with self._lock:
            return self._known.setdefault(access_key_id, identity)

    def root(self) -> Identity:
        return Identity("Root", "root", f"arn:aws:iam::{self.account_id}:root", self.account_id, self.account_id)


class SandboxIdentityResolver:
    """Asks the sandbox's own IAM and STS who holds a key (IAM user keys, then role session keys).

    The questions go straight to the sandbox, never through the gateway, so they stay out of the journal.
    An IAM user key is looked up with a neutral key, so the user's own "last used" record is left alone.
    """

    NEUTRAL_KEY = "AKIAGDSIMIDENTITY000"

    def __init__(self, upstream_url: str, region: str, account_id: str, *, timeout: float = 5.0) -> None:
        parts = urlsplit(upstream_url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._region = region
        self._account_id = account_id
        self._timeout = timeout

    def __call__(self, access_key_id: str) -> Identity | None:
        user = self._query("iam", self.NEUTRAL_KEY,
                           {"Action": "GetAccessKeyLastUsed", "AccessKeyId": access_key_id, "Version": "2010-05-08"})
        user_name = _tag(user, "UserName")
        if user_name:
            details = self._query("iam", self.NEUTRAL_KEY,
                                  {"Action": "GetUser", "UserName": user_name, "Version": "2010-05-08"})
            arn = _tag(details, "Arn") or f"arn:aws:iam::{self._account_id}:user/{user_name}"
            return Identity("IAMUser", user_name, arn, _tag(details, "UserId") or user_name, self._account_id)
        caller = self._query("sts", access_key_id, {"Action": "GetCallerIdentity", "Version": "2011-06-15"})
        arn = _tag(caller, "Arn") or ""
        if ":assumed-role/" in arn:
            session = arn.rsplit("/", 1)[-1]
            return Identity("AssumedRole", session, arn, _tag(caller, "UserId") or session, self._account_id)
        return None

    def _query(self, service: str, access_key_id: str, form: dict[str, str]) -> str:
        body = urlencode(form)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Authorization": (f"AWS4-HMAC-SHA256 Credential={access_key_id}/20200101/{self._region}/{service}/"
                              "aws4_request, SignedHeaders=host, Signature=0"),
        }
        connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        try:
            connection.request("POST", "/", body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            return text if response.status == 200 else ""
        except OSError:
            return ""
        finally:
            connection.close()


def _tag(text: str, name: str) -> str | None:
    found = re.search(_TAG.format(name), text)
    return found.group(1) if found else None
