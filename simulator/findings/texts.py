"""Finding titles and descriptions: short, specific, naming the resource and the remote party."""

from __future__ import annotations

from simulator.findings.actions import Facts
from simulator.findings.recipes import Recipe

_WHAT = {
    "C&CActivity.B": "querying or contacting a known command and control server",
    "BitcoinTool.B": "communicating with a cryptocurrency mining pool",
    "BlackholeTraffic": "trying to reach an address or domain that is a known black hole",
    "DropPoint": "sending data to a host known to collect stolen credentials and data",
    "DGADomainRequest.B": "querying algorithmically generated domains",
    "DGADomainRequest.C": "querying algorithmically generated domains",
    "DriveBySourceTraffic": "querying a domain known to serve drive-by downloads",
    "PhishingDomainRequest": "querying a domain involved in phishing",
    "DNSDataExfiltration": "exfiltrating data through DNS queries",
    "MetadataDNSRebind": "resolving a domain that rebinds to the instance metadata service",
    "AbusedDomainRequest.Reputation": "querying a low-reputation domain on a commonly abused service",
    "BitcoinDomainRequest.Reputation": "querying a domain associated with cryptocurrency activity",
    "MaliciousDomainRequest.Reputation": "querying a domain with a malicious reputation",
    "MaliciousDomainRequest.Custom": "querying a domain on a custom threat list",
    "SuspiciousDomainRequest.Reputation": "querying a suspicious domain",
    "TorClient": "connecting to a Tor entry node",
    "TorRelay": "acting as a Tor relay",
    "Spambot": "sending mail on port 25 the way spam bots do",
    "NetworkPortUnusual": "communicating on an unusual server port",
    "TrafficVolumeUnusual": "sending an unusually large amount of data",
    "UnusualDNSResolver": "using an unusual public DNS resolver",
    "UnusualDoHActivity": "using DNS over HTTPS to an unusual resolver",
    "UnusualDoTActivity": "using DNS over TLS to an unusual resolver",
    "PortSweep": "probing a port on a large number of addresses",
    "Portscan": "performing outbound port scans",
    "MaliciousIPCaller.Custom": "communicating with an address on a custom threat list",
}
_BRUTE = {"SSHBruteForce": "SSH", "RDPBruteForce": "RDP", "WinRMBruteForce": "Windows Remote Management"}


def _family_name(recipe: Recipe) -> str:
    return recipe.type_name.split("/", 1)[1].split("!", 1)[0]


def _resource_phrase(subject: dict[str, str]) -> str:
    kind = subject.get("resource_type", "")
    label = subject.get("label", "")
    if kind == "Container":
        return f"container {subject.get('container', label)} on EC2 instance {subject.get('instance_id', '')}"
    if kind == "EKSCluster" and subject.get("pod"):
        return f"EKS pod {subject.get('namespace', 'default')}/{subject['pod']} in cluster {subject.get('cluster', '')}"
    return {"Instance": f"EC2 instance {label}", "Lambda": f"Lambda function {label}",
            "EKSCluster": f"EKS cluster {subject.get('cluster', label)}",
            "ECSCluster": f"ECS task in cluster {subject.get('ecs_cluster', label)}"}.get(kind, label)


def describe(recipe: Recipe, subject: dict[str, str], facts: Facts) -> tuple[str, str]:
    family = recipe.family
    name = _family_name(recipe)
    who = _resource_phrase(subject)
    if family in ("ec2-network", "lambda-network", "runtime-network"):
        if name in _BRUTE:
            protocol = _BRUTE[name]
            if facts.direction == "INBOUND":
                title = f"{facts.remote_ip} is performing {protocol} brute force attacks against {who}."
            else:
                title = f"{who} is performing {protocol} brute force attacks against {facts.remote_ip}."
            return title, title + " Brute force attacks try to gain access by guessing passwords."
        if name.startswith("DenialOfService"):
            title = f"{who} is behaving in a manner that may indicate it is being used to perform a denial of " \
                    f"service attack using the {facts.protocol} protocol."
            return title, f"{title} Target: {facts.remote_ip}."
        what = _WHAT.get(name, "making suspicious network connections")
        title = f"{who} is {what}."
        detail = f"Remote host {facts.remote_ip}" + (f" on port {facts.remote_port}" if facts.remote_port else "")
        return title, f"{title} {detail}."
    if family in ("ec2-dns", "runtime-dns"):
        what = _WHAT.get(name, "querying a suspicious domain")
        title = f"{who} is {what}."
        return title, f"{title} Domain: {facts.domain}."
    if family == "ec2-port-probe":
        emr = "EMR-related " if "EMR" in name else ""
        title = f"Unprotected {emr}port {facts.local_port} on {who} is being probed."
        return title, f"{title} The probe came from {facts.remote_ip}, which is known to scan the internet."
    if family in ("iam-api", "s3-api", "custom-detection"):
        return _api_texts(recipe, subject, facts)
    if family == "kubernetes-api":
        cluster = subject.get("cluster", "")
        user = subject.get("k8s_user", "")
        title = f"Kubernetes API {facts.api} {facts.service} was invoked on cluster {cluster} by {user}."
        if facts.extra.get("subresource"):
            title = title.replace(f" {facts.service} ", f" {facts.service}/{facts.extra['subresource']} ", 1)
        return title, f"{title} Caller address: {facts.remote_ip} ({recipe.type_name})."
    if family == "rds-login":
        outcome = "failed" if facts.extra.get("succeeded", 0) == 0 else "successful"
        db = subject.get("db", "")
        title = f"Suspicious {outcome} login to RDS database {db} from {facts.remote_ip}."
        return title, (f"{title} User {subject.get('db_user', '')}: {facts.extra.get('failed', 0)} failed and "
                       f"{facts.extra.get('succeeded', 0)} successful attempts.")
    if family == "runtime-process":
        title = f"{_runtime_title(name)} on {who}."
        command = f" Command: {facts.extra['command']}" if facts.extra.get("command") else ""
        return title, f"{title} Process: {facts.extra.get('process', '')}.{command}"
    if family in ("ebs-malware", "backup-malware", "s3-object-malware"):
        verdict = "suspicious" if "Suspicious" in name else "malicious"
        where = subject.get("object_key") or who or subject.get("label", "")
        title = f"A {verdict} file was found in {where}."
        return title, f"{title} Threat: {facts.extra.get('threat', '')}."
    return "", ""


def _api_texts(recipe: Recipe, subject: dict[str, str], facts: Facts) -> tuple[str, str]:
    name = _family_name(recipe)
    caller = subject.get("user_name") or subject.get("principal_id") or "a principal"
    api = f"API {facts.api}"
    if recipe.family == "custom-detection":
        title = f"Custom detection {facts.signal}: {facts.api} was called by {caller}."
        return title, f"{title} Source address: {facts.remote_ip}."
    if "RootCredentialUsage" in name:
        title = f"{api} was invoked using root credentials."
        return title, f"{title} Source address: {facts.remote_ip}."
    if name.startswith("ConsoleLoginSuccess"):
        title = f"Unexpected console login by {caller}."
        return title, f"{title} The login came from {facts.remote_ip}, an unusual location for this user."
    if "CredentialExfiltration" in name:
        title = f"Credentials of {caller} were used from a remote address {facts.remote_ip}."
        return title, f"{title} {api} was called with temporary credentials issued to another resource."
    where = f" on S3 bucket {subject['bucket']}" if subject.get("bucket") else ""
    if name.startswith(("KaliLinux", "ParrotLinux", "PentooLinux")):
        distribution = name.removesuffix("Linux")
        title = f"{api} was invoked{where} from a host potentially running {distribution} Linux."
    elif "TorIPCaller" in name:
        title = f"{api} was invoked{where} from a Tor exit node."
    elif "MaliciousIPCaller" in name:
        title = f"{api} was invoked{where} from a known malicious address."
    elif "UnusualASNCaller" in name:
        title = f"{api} was invoked{where} from an address in a network unusual for {caller}."
    elif "AnomalousBehavior" in name:
        title = f"{api} was invoked{where} by {caller} in an anomalous way."
    else:
        title = f"{api} was invoked{where} by {caller} ({recipe.threat_purpose})."
    return title, f"{title} Source address: {facts.remote_ip}; caller {caller}."


def _runtime_title(name: str) -> str:
    words: list[str] = []
    for char in name.split(".")[0]:
        if char.isupper() and words:
            words.append(" ")
        words.append(char.lower() if words else char)
    return "".join(words) + " detected"
