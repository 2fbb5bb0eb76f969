"""``service.action`` in wire form, one builder per action type.

Each builder returns the action plus the facts the finding's texts and severity depend on (remote
address, port, domain, API), drawn from the finding's random.Random. Network facts come from
networks.py, so an address always matches its ASN, organisation and place.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from simulator.findings import ids
from simulator.findings.networks import (
    NETWORKS,
    RESOLVERS,
    Network,
    draw_remote,
    host6_in,
    host_in,
    remote_ip_details,
)
from simulator.findings.pools import Pools
from simulator.findings.recipes import ApiSpec, DnsSpec, K8sSpec, NetSpec, ProbeSpec, RdsSpec, Signal
from simulator.findings.values import (
    ABUSED_ZONES,
    API_CALLS,
    AWS_CLI_USER_AGENTS,
    CONSOLE_USER_AGENT,
    DB_APPLICATIONS,
    DGA_TLDS,
    KUBERNETES_USER_AGENTS,
    MINING_POOL_DOMAINS,
    PENTEST_USER_AGENTS,
    SUSPICIOUS_TLDS,
    below,
    between,
    dga_domain,
    ephemeral_port,
    exfil_domain,
    pick,
    port_details,
    pronounceable,
    rebind_domain,
)

_MINING_NETWORKS = tuple(n for n in NETWORKS if n.kind in ("hosting", "cloud"))
_HOSTING = tuple(n for n in NETWORKS if n.kind == "hosting")


@dataclass
class Facts:
    """What happened, for titles, severity and evidence."""

    remote_ip: str = ""
    remote_port: int = 0
    local_port: int = 0
    domain: str = ""
    api: str = ""
    service: str = ""
    direction: str = ""
    role: str = "TARGET"
    protocol: str = ""
    signal: str = ""
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    pools: Pools
    account: str
    region: str
    partition: str


def remote_host(rng: random.Random, source: str, *, ipv6: bool = False) -> tuple[Network, dict, str]:
    """A remote party: its network, its wire remoteIpDetails and its address."""
    if source == "resolver":
        address, network = RESOLVERS[below(rng, len(RESOLVERS))]
    else:
        if source == "mining":
            network = _MINING_NETWORKS[below(rng, len(_MINING_NETWORKS))]
            address = host_in(network.cidr, rng)
        elif source == "hosting":
            network = _HOSTING[below(rng, len(_HOSTING))]
            address = host_in(network.cidr, rng)
        else:
            network, address = draw_remote(rng, source)
    v6 = host6_in(network.cidr_v6, rng) if ipv6 and network.cidr_v6 else ""
    return network, remote_ip_details(network, address, ipv6=v6), address


def threat_evidence(threat: str, custom_list: bool, ctx: Context, rng: random.Random) -> dict | None:
    if not threat or threat.startswith("Tor"):
        return None
    if custom_list:
        list_name = f"{pick(rng, ctx.pools.companies)}-threat-intel"
    else:
        list_name = pick(rng, ("ProofPoint", "CrowdStrike", "Amazon"))
    return {"threatIntelligenceDetails": [{"threatListName": list_name, "threatNames": [threat]}]}


# --- network connections ---------------------------------------------------------------------------------


def network_connection(spec: NetSpec, subject: dict[str, str], rng: random.Random) -> tuple[dict, Facts]:
    direction = spec.direction
    if direction == "EITHER":
        # Brute force: usually an attack on the instance, sometimes the instance attacking others.
        direction = "INBOUND" if rng.random() < 0.75 else "OUTBOUND"
    _, remote_details, address = remote_host(rng, spec.remote)
    protocol = pick(rng, spec.protocols)
    facts = Facts(remote_ip=address, direction=direction, protocol=protocol,
                  role="ACTOR" if direction == "OUTBOUND" else "TARGET")
    action: dict = {"connectionDirection": direction}
    if subject.get("private_ip"):
        action["localIpDetails"] = {"ipAddressV4": subject["private_ip"]}
    action["remoteIpDetails"] = remote_details
    if protocol in ("TCP", "UDP"):
        service_port = pick(rng, spec.local_ports if direction == "INBOUND" and spec.local_ports
                            else spec.remote_ports or spec.local_ports)
        if direction == "INBOUND":
            facts.local_port, facts.remote_port = service_port, ephemeral_port(rng)
        else:
            facts.remote_port = service_port
            facts.local_port = spec.local_ports[0] if spec.local_ports else ephemeral_port(rng)
        action["remotePortDetails"] = port_details(facts.remote_port)
        action["localPortDetails"] = port_details(facts.local_port)
    action["protocol"] = protocol
    action["blocked"] = False
    if spec.extra == "unusual-port":
        facts.extra = {"unusual": str(facts.remote_port), "localPort": str(facts.local_port),
                       "inBytes": str(between(rng, 2_000, 900_000)), "outBytes": str(between(rng, 500, 90_000))}
    elif spec.extra == "traffic-volume":
        facts.extra = {"unusual": "outBytes", "outBytes": str(between(rng, 8, 400) * 1_000_000_000),
                       "inBytes": str(between(rng, 1_000_000, 90_000_000))}
    return {"actionType": "NETWORK_CONNECTION", "networkConnectionAction": action}, facts


# --- DNS requests ----------------------------------------------------------------------------------------


def domain_for(kind: str, rng: random.Random, pools: Pools) -> str:
    word = pick(rng, pools.words)
    tld = pick(rng, SUSPICIOUS_TLDS)
    if kind == "mining":
        return pick(rng, MINING_POOL_DOMAINS)
    if kind == "dga":
        return dga_domain(rng)
    if kind == "exfil":
        return exfil_domain(rng, f"{pronounceable(rng, 3)}.{pick(rng, DGA_TLDS)}")
    if kind == "rebind":
        return rebind_domain(host_in(pick(rng, _HOSTING).cidr, rng))
    if kind == "abused":
        return f"{word}{between(rng, 10, 999)}.{pick(rng, ABUSED_ZONES)}"
    if kind == "phishing":
        return pick(rng, (f"secure-{word}-login.{tld}", f"{word}-account-verify.{tld}", f"signin-{word}.{tld}"))
    if kind == "driveby":
        return f"cdn-{pronounceable(rng, 3)}.{tld}"
    if kind == "droppoint":
        return f"{word}-upload{between(rng, 1, 99)}.{tld}"
    if kind == "blackhole":
        return f"{pronounceable(rng, 4)}.{pick(rng, DGA_TLDS)}"
    if kind == "suspicious":
        return f"{word}-{pick(rng, pools.words)}.{tld}"
    return f"{pronounceable(rng, 3)}-{word}.{tld}"  # c2, malicious


def _with_suffix(domain: str) -> str:
    labels = domain.split(".")
    return ".".join(labels[-3:]) if ".".join(labels[-2:]) in ABUSED_ZONES else ".".join(labels[-2:])


def dns_request(spec: DnsSpec, ctx: Context, rng: random.Random) -> tuple[dict, Facts]:
    domain = domain_for(spec.domain, rng, ctx.pools)
    action = {"domain": domain, "protocol": "UDP", "blocked": rng.random() < 0.2,
              "domainWithSuffix": _with_suffix(domain), "vpcOwnerAccountId": ctx.account}
    return {"actionType": "DNS_REQUEST", "dnsRequestAction": action}, Facts(domain=domain, role="ACTOR",
                                                                               protocol="UDP")


# --- port probes ----------------------------------------------------------------------------------------


def port_probe(spec: ProbeSpec, subject: dict[str, str], rng: random.Random) -> tuple[dict, Facts]:
    port = pick(rng, spec.ports)
    details = []
    first_address = ""
    for _ in range(1 + (rng.random() < 0.3) + (rng.random() < 0.1)):
        _, remote_details, address = remote_host(rng, "attacker")
        first_address = first_address or address
        probe: dict = {"localPortDetails": port_details(port)}
        if subject.get("private_ip"):
            probe["localIpDetails"] = {"ipAddressV4": subject["private_ip"]}
        probe["remoteIpDetails"] = remote_details
        details.append(probe)
    action = {"actionType": "PORT_PROBE", "portProbeAction": {"portProbeDetails": details, "blocked": False}}
    return action, Facts(remote_ip=first_address, local_port=port, role="TARGET", direction="INBOUND")


# --- AWS API calls --------------------------------------------------------------------------------------


def user_agent(kind: str, rng: random.Random) -> str:
    if kind == "console":
        return CONSOLE_USER_AGENT
    if kind in PENTEST_USER_AGENTS:
        return PENTEST_USER_AGENTS[kind]
    return pick(rng, AWS_CLI_USER_AGENTS)


def api_call(spec: ApiSpec, subject: dict[str, str], ctx: Context, rng: random.Random) -> tuple[dict, Facts]:
    service, api = pick(rng, API_CALLS[spec.apis])
    _, remote_details, address = remote_host(rng, spec.remote)
    action: dict = {"api": api, "serviceName": service, "callerType": "Remote IP"}
    if spec.apis == "recon" and rng.random() < 0.3:
        action["errorCode"] = "AccessDenied"
    action["userAgent"] = user_agent("console" if api == "ConsoleLogin" else spec.user_agent, rng)
    action["remoteIpDetails"] = remote_details
    if spec.remote_account:
        action["remoteAccountDetails"] = {"accountId": ids.other_account(rng, ctx.account), "affiliated": False}
    affected: dict = {}
    if subject.get("bucket"):
        affected["AWS::S3::Bucket"] = subject["bucket"]
    if spec.apis == "CloudTrailLoggingDisabled":
        affected["AWS::CloudTrail::Trail"] = f"{pick(rng, ctx.pools.words)}-trail"
    action["affectedResources"] = affected
    return {"actionType": "AWS_API_CALL", "awsApiCallAction": action}, Facts(remote_ip=address, api=api,
                                                                               service=service, role="TARGET")


def signal_call(signal: Signal, affected_name: str, ctx: Context, rng: random.Random) -> tuple[dict, Facts]:
    """A Custom Detection Rules signal: the one CloudTrail call that matched the rule."""
    _, remote_details, address = remote_host(rng, "benign")
    action: dict = {"api": signal.api, "serviceName": signal.service, "callerType": "Remote IP",
                    "userAgent": user_agent("console" if signal.api == "ConsoleLogin" else "sdk", rng),
                    "remoteIpDetails": remote_details,
                    "affectedResources": {signal.affected: affected_name}}
    facts = Facts(remote_ip=address, api=signal.api, service=signal.service, signal=signal.name, role="TARGET")
    return {"actionType": "AWS_API_CALL", "awsApiCallAction": action}, facts


def anomaly(api: str, usual: tuple[str, ...], network: str, user_agent_text: str) -> dict:
    """service.detection.anomaly: the principal's usual profile and what was unseen this time."""
    def observed(subtype: str, values: list[str]) -> dict:
        return {"profileType": "FREQUENCY", "profileSubtype": subtype, "observations": {"text": values}}

    return {"anomaly": {
        "profiles": {"ACCOUNT": {"API": [observed("FREQUENT", list(usual))]},
                     "PRINCIPAL": {"ASN": [observed("FREQUENT", ["16509"])]}},
        "unusual": {"behavior": {"ACCOUNT": {"API": observed("UNSEEN", [api])},
                                 "PRINCIPAL": {"ASN": observed("UNSEEN", [network]),
                                               "USER_AGENT": observed("RARE", [user_agent_text])}}}}}


# --- Kubernetes API calls -------------------------------------------------------------------------------


def _request_uri(spec: K8sSpec, name: str) -> str:
    group = {"deployments": "/apis/apps/v1", "cronjobs": "/apis/batch/v1",
             "clusterrolebindings": "/apis/rbac.authorization.k8s.io/v1",
             "rolebindings": "/apis/rbac.authorization.k8s.io/v1", "roles": "/apis/rbac.authorization.k8s.io/v1",
             "selfsubjectaccessreviews": "/apis/authorization.k8s.io/v1"}.get(spec.resource, "/api/v1")
    path = f"{group}/namespaces/{spec.namespace}/{spec.resource}" if spec.namespace else f"{group}/{spec.resource}"
    if (name and spec.verb in ("get", "delete", "update", "patch")) or spec.subresource:
        path += f"/{name}"
    if spec.subresource:
        path += f"/{spec.subresource}?command=sh&container={name.split('-')[0]}&stdin=true&stdout=true&tty=true"
    return path


def kubernetes_call(spec: K8sSpec, subject: dict[str, str], ctx: Context,
                    rng: random.Random) -> tuple[dict, Facts]:
    _, remote_details, address = remote_host(rng, spec.remote)
    name = subject.get("pod") or f"{pick(rng, ctx.pools.words)}-{ids.hex_digits(rng, 5)}"
    if spec.resource in ("secrets", "services", "events", "deployments"):
        name = f"{pick(rng, ctx.pools.words)}-{spec.resource.rstrip('s')}"
    call: dict = {"requestUri": _request_uri(spec, name), "verb": spec.verb, "resource": spec.resource}
    if spec.subresource:
        call["subresource"] = spec.subresource
    if spec.namespace:
        call["namespace"] = spec.namespace
    if spec.verb != "list":
        call["resourceName"] = name
    call["sourceIPs"] = [address]
    call["userAgent"] = pick(rng, KUBERNETES_USER_AGENTS)
    call["remoteIpDetails"] = remote_details
    call["statusCode"] = 201 if spec.verb == "create" else 200
    action: dict = {"actionType": "KUBERNETES_API_CALL", "kubernetesApiCallAction": call}
    if spec.detail == "permission":
        action["kubernetesPermissionCheckedDetails"] = {"verb": pick(rng, ("create", "delete", "get")),
                                                        "resource": pick(rng, ("pods", "secrets", "nodes")),
                                                        "namespace": "kube-system", "allowed": rng.random() < 0.5}
    elif spec.detail == "rolebinding":
        cluster_wide = spec.resource == "clusterrolebindings"
        action["kubernetesRoleBindingDetails"] = {
            "kind": "ClusterRoleBinding" if cluster_wide else "RoleBinding", "name": name, "uid": ids.rng_uuid(rng),
            "roleRefName": pick(rng, ("cluster-admin", "admin", "edit")), "roleRefKind": "ClusterRole"}
    elif spec.detail == "role":
        action["kubernetesRoleDetails"] = {"kind": "Role", "name": name, "uid": ids.rng_uuid(rng)}
    return action, Facts(remote_ip=address, api=spec.verb, service=spec.resource, role="TARGET",
                         extra={"subresource": spec.subresource} if spec.subresource else {})


# --- RDS login attempts ---------------------------------------------------------------------------------


def rds_login(spec: RdsSpec, subject: dict[str, str], rng: random.Random) -> tuple[dict, Facts]:
    _, remote_details, address = remote_host(rng, spec.remote)
    if spec.outcome == "failed":
        failed, succeeded = between(rng, 3, 400), 0
    elif spec.outcome == "bruteforce":
        failed, succeeded = between(rng, 40, 4000), 1
    else:
        failed, succeeded = between(rng, 0, 3), 1 + below(rng, 4)
    attribute = {"user": subject.get("db_user") or "postgres",
                 "application": subject.get("db_application") or pick(rng, DB_APPLICATIONS),
                 "failedLoginAttempts": failed, "successfulLoginAttempts": succeeded}
    action = {"actionType": "RDS_LOGIN_ATTEMPT",
              "rdsLoginAttemptAction": {"remoteIpDetails": remote_details, "LoginAttributes": [attribute]}}
    return action, Facts(remote_ip=address, role="TARGET", extra={"failed": failed, "succeeded": succeeded})
