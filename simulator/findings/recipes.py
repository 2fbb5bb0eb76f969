"""What each finding type looks like: its family, resource type and the behaviour behind it.

A recipe is worked out once per type from the catalog row and the type name's grammar
(``ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact``); the builders in
actions.py, runtime.py, scans.py and sequences.py turn it into wire sections. Every active type must get
a recipe: ``recipe_for`` raises for a name it cannot place, and the tests walk the whole catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from simulator.catalog import FindingType, active_types
from simulator.findings.retired import finding_type

# --- behaviour specs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetSpec:
    direction: str  # OUTBOUND | INBOUND | EITHER (brute force: inbound target or outbound actor)
    remote: str  # networks.SOURCES_BY_ROLE key, or "resolver" / "mining"
    protocols: tuple[str, ...]
    remote_ports: tuple[int, ...]
    threat: str = ""  # threat name for evidence; "" when the finding is behavioural
    custom_list: bool = False
    extra: str = ""  # "unusual-port" | "traffic-volume"
    local_ports: tuple[int, ...] = ()


@dataclass(frozen=True)
class DnsSpec:
    domain: str  # kind of domain, see actions.domain_for
    threat: str = ""
    custom_list: bool = False


@dataclass(frozen=True)
class ProbeSpec:
    ports: tuple[int, ...]
    high_ports: tuple[int, ...] = ()  # probing these makes the finding High


@dataclass(frozen=True)
class ApiSpec:
    apis: str  # values.API_CALLS key
    remote: str = "attacker"
    principal: str = "user"  # user | root | short-root | instance-role | resource-role | any
    user_agent: str = "sdk"  # sdk | console | KaliLinux | ParrotLinux | PentooLinux
    threat: str = ""
    custom_list: bool = False
    anomaly: bool = False
    remote_account: bool = False
    bucket: str = ""  # "" (not an S3 finding) | private | public-policy | public-acl | bpa-off | account-bpa-off


@dataclass(frozen=True)
class K8sSpec:
    verb: str
    resource: str
    namespace: str = "default"
    subresource: str = ""
    user: str = "iam"  # iam | anonymous | serviceaccount
    remote: str = "attacker"
    threat: str = ""
    custom_list: bool = False
    anomaly: bool = False
    detail: str = ""  # permission | rolebinding | role | workload
    workload: str = ""  # privileged | sensitive-mount | plain


@dataclass(frozen=True)
class RdsSpec:
    outcome: str  # failed | success | bruteforce
    remote: str = "attacker"
    threat: str = ""
    anomaly: bool = False


@dataclass(frozen=True)
class RuntimeSpec:
    behaviour: str  # runtime.CONTEXTS key
    net: NetSpec | None = None
    dns: DnsSpec | None = None


@dataclass(frozen=True)
class ScanSpec:
    target: str  # ebs | ami | snapshot | recovery-point | s3-object
    malicious: bool = True


@dataclass(frozen=True)
class SequenceSpec:
    scope: str  # IAM | S3 | EKS | ECS | EC2


@dataclass(frozen=True)
class Signal:
    name: str
    severity: str
    service: str
    api: str
    affected: str  # CloudFormation-style resource type named in affectedResources


@dataclass(frozen=True)
class CdrSpec:
    signals: tuple[Signal, ...]


Spec = NetSpec | DnsSpec | ProbeSpec | ApiSpec | K8sSpec | RdsSpec | RuntimeSpec | ScanSpec | SequenceSpec | CdrSpec


@dataclass(frozen=True)
class Recipe:
    type_name: str
    family: str
    resource_types: tuple[str, ...]
    spec: Spec
    severity_labels: tuple[str, ...]
    severity_range: tuple[float, float]
    threat_purpose: str
    resource_family: str
    data_source: str = field(default="")


FAMILIES = (
    "ec2-network", "ec2-dns", "ec2-port-probe", "iam-api", "s3-api", "kubernetes-api", "rds-login",
    "lambda-network", "runtime-process", "runtime-network", "runtime-dns", "ebs-malware", "backup-malware",
    "s3-object-malware", "attack-sequence", "custom-detection",
)

# --- behaviour tables, keyed by the ThreatFamilyName.DetectionMechanism part ---------------------------

_MAL = "malicious"
NETWORK: dict[str, NetSpec] = {
    "C&CActivity.B": NetSpec("OUTBOUND", _MAL, ("TCP",), (443, 80, 8080, 4444, 1337), threat="Backdoor C&C"),
    "DenialOfService.Tcp": NetSpec("OUTBOUND", "attacker", ("TCP",), (80, 443, 22)),
    "DenialOfService.Udp": NetSpec("OUTBOUND", "attacker", ("UDP",), (123, 1900, 11211, 19)),
    "DenialOfService.Dns": NetSpec("OUTBOUND", "attacker", ("UDP",), (53,)),
    "DenialOfService.UdpOnTcpPorts": NetSpec("OUTBOUND", "attacker", ("UDP",), (80, 443, 22)),
    "DenialOfService.UnusualProtocol": NetSpec("OUTBOUND", "attacker", ("GRE", "IGMP"), ()),
    "Spambot": NetSpec("OUTBOUND", "benign", ("TCP",), (25,)),
    "NetworkPortUnusual": NetSpec("OUTBOUND", "attacker", ("TCP",), (1337, 4443, 6667, 8081, 9999, 31337),
                                  extra="unusual-port"),
    "TrafficVolumeUnusual": NetSpec("OUTBOUND", "hosting", ("TCP",), (443, 22, 8443), extra="traffic-volume"),
    "BitcoinTool.B": NetSpec("OUTBOUND", "mining", ("TCP",), (3333, 4444, 5555, 7777, 14444, 45700),
                             threat="Bitcoin mining"),
    "UnusualDNSResolver": NetSpec("OUTBOUND", "resolver", ("UDP",), (53,)),
    "UnusualDoHActivity": NetSpec("OUTBOUND", "resolver", ("TCP",), (443,)),
    "UnusualDoTActivity": NetSpec("OUTBOUND", "resolver", ("TCP",), (853,)),
    "PortSweep": NetSpec("OUTBOUND", "attacker", ("TCP",), (22, 23, 445, 3389, 6379, 9200)),
    "Portscan": NetSpec("OUTBOUND", "attacker", ("TCP",), (22, 80, 443, 3306, 5432, 8080)),
    "WinRMBruteForce": NetSpec("EITHER", "attacker", ("TCP",), (5985, 5986)),
    "SSHBruteForce": NetSpec("EITHER", "attacker", ("TCP",), (22,)),
    "RDPBruteForce": NetSpec("EITHER", "attacker", ("TCP",), (3389,)),
    "BlackholeTraffic": NetSpec("OUTBOUND", _MAL, ("TCP",), (80, 443), threat="Blackholed address"),
    "DropPoint": NetSpec("OUTBOUND", _MAL, ("TCP",), (443, 80, 21), threat="Drop point"),
    "MaliciousIPCaller.Custom": NetSpec("INBOUND", _MAL, ("TCP",), (), threat="Known malicious host",
                                        custom_list=True, local_ports=(22, 80, 443, 3389)),
    "TorClient": NetSpec("OUTBOUND", "tor", ("TCP",), (9001, 443), threat="TorEntryNode"),
    "TorRelay": NetSpec("OUTBOUND", "tor", ("TCP",), (9001, 9030), threat="TorRelay", local_ports=(9001,)),
}

DNS: dict[str, DnsSpec] = {
    "C&CActivity.B": DnsSpec("c2", "Backdoor C&C"),
    "BitcoinTool.B": DnsSpec("mining", "Bitcoin mining"),
    "DGADomainRequest.B": DnsSpec("dga", "DGA"),
    "DGADomainRequest.C": DnsSpec("dga", "DGA"),
    "BlackholeTraffic": DnsSpec("blackhole", "Blackholed domain"),
    "DropPoint": DnsSpec("droppoint", "Drop point"),
    "DriveBySourceTraffic": DnsSpec("driveby", "Drive-by download source"),
    "PhishingDomainRequest": DnsSpec("phishing", "Phishing"),
    "DNSDataExfiltration": DnsSpec("exfil"),
    "MetadataDNSRebind": DnsSpec("rebind"),
    "AbusedDomainRequest.Reputation": DnsSpec("abused", "Abused domain"),
    "BitcoinDomainRequest.Reputation": DnsSpec("mining", "Cryptocurrency-related domain"),
    "MaliciousDomainRequest.Reputation": DnsSpec("malicious", "Malicious domain"),
    "MaliciousDomainRequest.Custom": DnsSpec("malicious", "Known malicious domain", custom_list=True),
    "SuspiciousDomainRequest.Reputation": DnsSpec("suspicious", "Suspicious domain"),
}

PROBES: dict[str, ProbeSpec] = {
    "PortProbeUnprotectedPort": ProbeSpec((22, 23, 80, 443, 445, 1433, 3306, 3389, 5432, 6379, 9200, 9300),
                                          high_ports=(9200, 9300)),
    "PortProbeEMRUnprotectedPort": ProbeSpec((8088, 18080, 8890, 8888, 8998)),
}

_IAM_CALLER_APIS = {"Recon": "recon", "UnauthorizedAccess": "general"}
IAM: dict[str, ApiSpec] = {
    "RootCredentialUsage": ApiSpec("general", "benign", principal="root"),
    "ShortTermRootCredentialUsage": ApiSpec("general", "benign", principal="short-root", user_agent="console"),
    "UnusualASNCaller": ApiSpec("general", "attacker"),  # retired: made only when asked for (allow_retired)
    "ConsoleLoginSuccess.B": ApiSpec("ConsoleLogin", "benign", user_agent="console"),
    "InstanceCredentialExfiltration.InsideAWS": ApiSpec("recon", "aws", principal="instance-role",
                                                        remote_account=True),
    "InstanceCredentialExfiltration.OutsideAWS": ApiSpec("recon", "attacker", principal="instance-role"),
    "ResourceCredentialExfiltration.InsideAWS": ApiSpec("recon", "aws", principal="resource-role",
                                                        remote_account=True),
    "ResourceCredentialExfiltration.OutsideAWS": ApiSpec("recon", "attacker", principal="resource-role"),
    "CloudTrailLoggingDisabled": ApiSpec("CloudTrailLoggingDisabled", "benign"),
    "PasswordPolicyChange": ApiSpec("PasswordPolicyChange", "benign"),
    "BedrockLoggingDisabled": ApiSpec("BedrockLoggingDisabled", "benign"),
    "KaliLinux": ApiSpec("recon", "attacker", user_agent="KaliLinux"),
    "ParrotLinux": ApiSpec("recon", "attacker", user_agent="ParrotLinux"),
    "PentooLinux": ApiSpec("recon", "attacker", user_agent="PentooLinux"),
}

S3: dict[str, ApiSpec] = {
    "Discovery:S3/AnomalousBehavior": ApiSpec("s3-discovery", "benign", anomaly=True, bucket="private"),
    "Exfiltration:S3/AnomalousBehavior": ApiSpec("s3-read", "benign", anomaly=True, bucket="private"),
    "Impact:S3/AnomalousBehavior.Delete": ApiSpec("s3-delete", "benign", anomaly=True, bucket="private"),
    "Impact:S3/AnomalousBehavior.Permission": ApiSpec("s3-permission", "benign", anomaly=True, bucket="private"),
    "Impact:S3/AnomalousBehavior.Write": ApiSpec("s3-write", "benign", anomaly=True, bucket="private"),
    "Discovery:S3/MaliciousIPCaller": ApiSpec("s3-discovery", _MAL, threat="Known malicious host",
                                              bucket="private"),
    "Discovery:S3/MaliciousIPCaller.Custom": ApiSpec("s3-discovery", _MAL, threat="Known malicious host",
                                                     custom_list=True, bucket="private"),
    "Discovery:S3/TorIPCaller": ApiSpec("s3-discovery", "tor", threat="TorExitNode", bucket="private"),
    "Exfiltration:S3/MaliciousIPCaller": ApiSpec("s3-read", _MAL, threat="Known malicious host", bucket="private"),
    "Impact:S3/MaliciousIPCaller": ApiSpec("s3-delete", _MAL, threat="Known malicious host", bucket="private"),
    "UnauthorizedAccess:S3/MaliciousIPCaller.Custom": ApiSpec("s3-any", _MAL, threat="Known malicious host",
                                                              custom_list=True, bucket="private"),
    "UnauthorizedAccess:S3/TorIPCaller": ApiSpec("s3-any", "tor", threat="TorExitNode", bucket="private"),
    "PenTest:S3/KaliLinux": ApiSpec("s3-any", "attacker", user_agent="KaliLinux", bucket="private"),
    "PenTest:S3/ParrotLinux": ApiSpec("s3-any", "attacker", user_agent="ParrotLinux", bucket="private"),
    "PenTest:S3/PentooLinux": ApiSpec("s3-any", "attacker", user_agent="PentooLinux", bucket="private"),
    "Policy:S3/AccountBlockPublicAccessDisabled": ApiSpec("s3-account-bpa", "benign", bucket="account-bpa-off"),
    "Policy:S3/BucketAnonymousAccessGranted": ApiSpec("s3-anonymous", "benign", bucket="public-acl"),
    "Policy:S3/BucketBlockPublicAccessDisabled": ApiSpec("s3-bucket-bpa", "benign", bucket="bpa-off"),
    "Policy:S3/BucketPublicAccessGranted": ApiSpec("s3-public", "benign", bucket="public-policy"),
    "Stealth:S3/ServerAccessLoggingDisabled": ApiSpec("s3-logging", "benign", bucket="private"),
}

# Kubernetes API calls by tactic for the caller-based types (MaliciousIPCaller, TorIPCaller, anonymous).
_K8S_BY_TACTIC: dict[str, tuple[str, str, str, str]] = {  # verb, resource, namespace, subresource
    "CredentialAccess": ("get", "secrets", "kube-system", ""),
    "DefenseEvasion": ("delete", "events", "default", ""),
    "Discovery": ("list", "pods", "", ""),
    "Execution": ("create", "pods", "default", "exec"),
    "Impact": ("delete", "deployments", "default", ""),
    "Persistence": ("create", "cronjobs", "default", ""),
    "PrivilegeEscalation": ("create", "clusterrolebindings", "", ""),
}
K8S_SPECIFIC: dict[str, K8sSpec] = {
    "CredentialAccess:Kubernetes/AnomalousBehavior.SecretsAccessed": K8sSpec("get", "secrets", "kube-system",
                                                                             anomaly=True, remote="benign"),
    "Discovery:Kubernetes/AnomalousBehavior.PermissionChecked": K8sSpec(
        "create", "selfsubjectaccessreviews", "", anomaly=True, remote="benign", detail="permission"),
    "Execution:Kubernetes/AnomalousBehavior.ExecInPod": K8sSpec("create", "pods", "default", "exec",
                                                                anomaly=True, remote="benign", detail="workload",
                                                                workload="plain"),
    "Execution:Kubernetes/AnomalousBehavior.WorkloadDeployed": K8sSpec(
        "create", "deployments", "default", anomaly=True, remote="benign", detail="workload", workload="plain"),
    "Execution:Kubernetes/ExecInKubeSystemPod": K8sSpec("create", "pods", "kube-system", "exec", remote="benign",
                                                        detail="workload", workload="plain"),
    "Persistence:Kubernetes/AnomalousBehavior.WorkloadDeployed!ContainerWithSensitiveMount": K8sSpec(
        "create", "pods", "default", anomaly=True, remote="benign", detail="workload", workload="sensitive-mount"),
    "PrivilegeEscalation:Kubernetes/AnomalousBehavior.WorkloadDeployed!PrivilegedContainer": K8sSpec(
        "create", "pods", "default", anomaly=True, remote="benign", detail="workload", workload="privileged"),
    "PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleBindingCreated": K8sSpec(
        "create", "rolebindings", "default", anomaly=True, remote="benign", detail="rolebinding"),
    "PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleCreated": K8sSpec(
        "create", "roles", "default", anomaly=True, remote="benign", detail="role"),
    "Policy:Kubernetes/AdminAccessToDefaultServiceAccount": K8sSpec("create", "rolebindings", "default",
                                                                    remote="benign", detail="rolebinding"),
    "Policy:Kubernetes/AnonymousAccessGranted": K8sSpec("create", "clusterrolebindings", "", remote="benign",
                                                        detail="rolebinding"),
    "Policy:Kubernetes/ExposedDashboard": K8sSpec("update", "services", "kubernetes-dashboard", remote="benign"),
    "Policy:Kubernetes/KubeflowDashboardExposed": K8sSpec("update", "services", "kubeflow", remote="benign"),
}

RDS: dict[str, RdsSpec] = {
    "AnomalousBehavior.FailedLogin": RdsSpec("failed", "attacker", anomaly=True),
    "AnomalousBehavior.SuccessfulBruteForce": RdsSpec("bruteforce", "attacker", anomaly=True),
    "AnomalousBehavior.SuccessfulLogin": RdsSpec("success", "benign", anomaly=True),
    "MaliciousIPCaller.FailedLogin": RdsSpec("failed", _MAL, threat="Known malicious host"),
    "MaliciousIPCaller.SuccessfulLogin": RdsSpec("success", _MAL, threat="Known malicious host"),
    "TorIPCaller.FailedLogin": RdsSpec("failed", "tor", threat="TorExitNode"),
    "TorIPCaller.SuccessfulLogin": RdsSpec("success", "tor", threat="TorExitNode"),
    "MaliciousIPCaller": RdsSpec("failed", _MAL, threat="Known malicious host"),
    "TorIPCaller": RdsSpec("failed", "tor", threat="TorExitNode"),
}

# Custom Detection Rules types: the signals named on the GuardDuty UG page, with the CloudTrail call behind each.
CDR: dict[str, tuple[Signal, ...]] = {
    "CredentialAccess:EC2/UnsecuredCredentials": (
        Signal("EC2PasswordDataRetrieved", "Medium", "ec2.amazonaws.com", "GetPasswordData", "AWS::EC2::Instance"),),
    "CredentialAccess:RDS/ModifyAuthenticationProcess": (
        Signal("RDSMasterPasswordReset", "High", "rds.amazonaws.com", "ModifyDBInstance", "AWS::RDS::DBInstance"),),
    "DefenseImpairment:EC2/DisableOrModifyTools": (
        Signal("EC2TerminationProtectionEnabled", "Low", "ec2.amazonaws.com", "ModifyInstanceAttribute",
               "AWS::EC2::Instance"),
        Signal("VPCFlowLogsDeleted", "High", "ec2.amazonaws.com", "DeleteFlowLogs", "AWS::EC2::FlowLog")),
    "DefenseImpairment:Organizations/ModifyCloudResourceHierarchy": (
        Signal("OrganizationLeaveAttempt", "High", "organizations.amazonaws.com", "LeaveOrganization",
               "AWS::Organizations::Account"),),
    "DefenseImpairment:Organizations/DisableOrModifyTools": (
        Signal("OrganizationPolicyDisabled", "High", "organizations.amazonaws.com", "DisablePolicyType",
               "AWS::Organizations::Root"),),
    "DefenseImpairment:RDS/ModifyAuthenticationProcess": (
        Signal("RDSIAMAuthDisabled", "Medium", "rds.amazonaws.com", "ModifyDBInstance", "AWS::RDS::DBInstance"),),
    "DefenseImpairment:Route53Resolver/DisableOrModifyTools": (
        Signal("DNSQueryLogsDeleted", "Medium", "route53resolver.amazonaws.com", "DeleteResolverQueryLogConfig",
               "AWS::Route53Resolver::ResolverQueryLoggingConfig"),),
    "DefenseImpairment:S3/DisableOrModifyTools": (
        Signal("S3CustomerProvidedKeysEnabled", "High", "s3.amazonaws.com", "PutBucketEncryption",
               "AWS::S3::Bucket"),),
    "Execution:SageMaker/CommandAndScriptingInterpreter": (
        Signal("SageMakerLifecycleConfigModified", "Medium", "sagemaker.amazonaws.com",
               "UpdateNotebookInstanceLifecycleConfig", "AWS::SageMaker::NotebookInstanceLifecycleConfig"),),
    "Exfiltration:EC2/TransferDataToCloudAccount": (
        Signal("AMIExternalAccess", "High", "ec2.amazonaws.com", "ModifyImageAttribute", "AWS::EC2::Image"),
        Signal("EBSSnapshotExternalAccess", "High", "ec2.amazonaws.com", "ModifySnapshotAttribute",
               "AWS::EC2::Snapshot")),
    "Exfiltration:RDS/TransferDataToCloudAccount": (
        Signal("RDSSnapshotPubliclyShared", "High", "rds.amazonaws.com", "ModifyDBSnapshotAttribute",
               "AWS::RDS::DBSnapshot"),),
    "Exfiltration:S3/TransferDataToCloudAccount": (
        Signal("S3BucketPolicyExternalAccess", "High", "s3.amazonaws.com", "PutBucketPolicy", "AWS::S3::Bucket"),),
    "Impact:S3/DataDestruction": (
        Signal("S3LifecycleRapidExpiration", "Medium", "s3.amazonaws.com", "PutBucketLifecycle",
               "AWS::S3::Bucket"),),
    "Impact:SES/ResourceHijacking": (
        Signal("SESAccountSendingEnabled", "Low", "ses.amazonaws.com", "UpdateAccountSendingEnabled",
               "AWS::SES::Account"),
        Signal("SESProductionAccessEnabled", "Medium", "ses.amazonaws.com", "PutAccountDetails",
               "AWS::SES::Account")),
    "InitialAccess:IAM/ValidAccounts": (
        Signal("ConsoleLoginWithoutMFA", "Medium", "signin.amazonaws.com", "ConsoleLogin", "AWS::IAM::User"),),
    "InitialAccess:RDS/ExploitPublicFacingApplication": (
        Signal("RDSPubliclyAccessible", "High", "rds.amazonaws.com", "ModifyDBInstance", "AWS::RDS::DBInstance"),),
    "LateralMovement:EC2/RemoteServices": (
        Signal("EC2InstanceSSHKeyPushed", "Medium", "ec2-instance-connect.amazonaws.com", "SendSSHPublicKey",
               "AWS::EC2::Instance"),),
    "Persistence:EC2/BootOrLogonInitializationScripts": (
        Signal("EC2UserDataModified", "High", "ec2.amazonaws.com", "ModifyInstanceAttribute",
               "AWS::EC2::Instance"),),
    "Persistence:EC2/ExternalRemoteServices": (
        Signal("EC2SecurityGroupPublicSSH", "Medium", "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress",
               "AWS::EC2::SecurityGroup"),),
    "Persistence:IAM/AccountManipulation": (
        Signal("IAMAccessKeyCreated", "Low", "iam.amazonaws.com", "CreateAccessKey", "AWS::IAM::User"),
        Signal("IAMRoleTrustPolicyModified", "Medium", "iam.amazonaws.com", "UpdateAssumeRolePolicy",
               "AWS::IAM::Role"),
        Signal("IAMUserLoginProfileCreated", "High", "iam.amazonaws.com", "CreateLoginProfile", "AWS::IAM::User"),
        Signal("IAMUserLoginProfileUpdated", "Medium", "iam.amazonaws.com", "UpdateLoginProfile",
               "AWS::IAM::User")),
    "Persistence:Lambda/AccountManipulation": (
        Signal("LambdaFunctionPublicAccess", "High", "lambda.amazonaws.com", "AddPermission20150707",
               "AWS::Lambda::Function"),),
    "Persistence:Lambda/ModifyAuthenticationProcess": (
        Signal("LambdaFunctionUrlPublicAccess", "High", "lambda.amazonaws.com", "CreateFunctionUrlConfig",
               "AWS::Lambda::Function"),),
    "Persistence:RolesAnywhere/AccountManipulation": (
        Signal("RolesAnywhereTrustAnchorCreated", "Medium", "rolesanywhere.amazonaws.com", "CreateTrustAnchor",
               "AWS::RolesAnywhere::TrustAnchor"),),
    "PrivilegeEscalation:IAM/AccountManipulation": (
        Signal("AdminPolicyAttachedToRole", "High", "iam.amazonaws.com", "AttachRolePolicy", "AWS::IAM::Role"),
        Signal("AdminPolicyAttachedToUser", "High", "iam.amazonaws.com", "AttachUserPolicy", "AWS::IAM::User"),
        Signal("BedrockServiceCredentialCreated", "Medium", "iam.amazonaws.com",
               "CreateServiceSpecificCredential", "AWS::IAM::User"),
        Signal("SESFullAccessPolicyAttachedToRole", "Medium", "iam.amazonaws.com", "AttachRolePolicy",
               "AWS::IAM::Role"),
        Signal("SESFullAccessPolicyAttachedToUser", "Medium", "iam.amazonaws.com", "AttachUserPolicy",
               "AWS::IAM::User")),
    "ResourceDevelopment:SES/CompromiseAccounts": (
        Signal("SESDomainIdentityVerified", "Medium", "ses.amazonaws.com", "VerifyDomainIdentity",
               "AWS::SES::EmailIdentity"),),
}

RUNTIME_NETWORK = ("C&CActivity.B", "BitcoinTool.B", "BlackholeTraffic", "DropPoint", "TorClient", "TorRelay")
LAMBDA_NETWORK = (*RUNTIME_NETWORK, "MaliciousIPCaller.Custom")
RUNTIME_RESOURCE_TYPES = ("Instance", "EKSCluster", "ECSCluster", "Container")

# --- classification --------------------------------------------------------------------------------------


def _split(name: str) -> tuple[str, str, str, str]:
    purpose, rest = name.split(":", 1)
    resource, family = rest.split("/", 1)
    family, _, artifact = family.partition("!")
    return purpose, resource, family, artifact


def _classify(ftype: FindingType) -> tuple[str, tuple[str, ...], Spec]:
    name = ftype.name
    purpose, resource, family, artifact = _split(name)
    if purpose == "AttackSequence":
        return "attack-sequence", ("AttackSequence",), SequenceSpec(resource)
    if name in CDR:
        return "custom-detection", ("AccessKey",), CdrSpec(CDR[name])
    if name == "Object:S3/MaliciousFile":
        return "s3-object-malware", ("S3Object",), ScanSpec("s3-object")
    if family in ("MaliciousFile", "SuspiciousFile"):
        return _classify_scan(resource, family, artifact)
    if resource == "EC2":
        return _classify_ec2(family, artifact)
    if resource == "Runtime":
        return _classify_runtime(family, artifact)
    if resource == "Lambda" and family in LAMBDA_NETWORK:
        return "lambda-network", ("Lambda",), NETWORK[family]
    if resource == "IAMUser":
        return "iam-api", ("AccessKey",), _iam_spec(purpose, family)
    if resource == "S3" and name in S3:
        return "s3-api", ("S3Bucket",), S3[name]
    if resource == "Kubernetes":
        return "kubernetes-api", ("EKSCluster",), _k8s_spec(name, purpose, family)
    if resource == "RDS" and family in RDS:
        return "rds-login", ("RDSDBInstance", "RDSLimitlessDB"), RDS[family]
    raise LookupError(f"no recipe for finding type {name!r}")


def _classify_scan(resource: str, family: str, artifact: str) -> tuple[str, tuple[str, ...], Spec]:
    malicious = family == "MaliciousFile"
    if artifact == "AMI":
        return "backup-malware", ("EC2Image",), ScanSpec("ami", malicious)
    if artifact == "Snapshot":
        return "backup-malware", ("EBSSnapshot",), ScanSpec("snapshot", malicious)
    if artifact == "RecoveryPoint":
        return "backup-malware", ("RecoveryPoint",), ScanSpec("recovery-point", malicious)
    resource_type = {"EC2": "Instance", "Container": "Container", "ECS": "ECSCluster",
                     "Kubernetes": "EKSCluster"}[resource]
    return "ebs-malware", (resource_type,), ScanSpec("ebs", malicious)


def _classify_ec2(family: str, artifact: str) -> tuple[str, tuple[str, ...], Spec]:
    if family in PROBES:
        return "ec2-port-probe", ("Instance",), PROBES[family]
    if artifact == "DNS" or (family in DNS and family not in NETWORK):
        return "ec2-dns", ("Instance",), DNS[family]
    return "ec2-network", ("Instance",), NETWORK[family]


def _classify_runtime(family: str, artifact: str) -> tuple[str, tuple[str, ...], Spec]:
    if artifact == "DNS" or (family in DNS and family not in RUNTIME_NETWORK):
        return "runtime-dns", RUNTIME_RESOURCE_TYPES, RuntimeSpec("dns-request", dns=DNS[family])
    if family in RUNTIME_NETWORK:
        return "runtime-network", RUNTIME_RESOURCE_TYPES, RuntimeSpec("network", net=NETWORK[family])
    return "runtime-process", RUNTIME_RESOURCE_TYPES, RuntimeSpec(family)


def _iam_spec(purpose: str, family: str) -> ApiSpec:
    if family in IAM:
        return IAM[family]
    if family == "AnomalousBehavior":
        return ApiSpec(purpose, "benign", anomaly=True)
    base = family.removesuffix(".Custom")
    apis = _IAM_CALLER_APIS.get(purpose, "general")
    if base == "MaliciousIPCaller":
        return ApiSpec(apis, _MAL, threat="Known malicious host", custom_list=family.endswith(".Custom"))
    if base == "TorIPCaller":
        return ApiSpec(apis, "tor", threat="TorExitNode")
    raise LookupError(f"no IAM behaviour for {purpose}:{family}")


def _k8s_spec(name: str, purpose: str, family: str) -> K8sSpec:
    if name in K8S_SPECIFIC:
        return K8S_SPECIFIC[name]
    verb, resource, namespace, subresource = _K8S_BY_TACTIC[purpose]
    base = family.removesuffix(".Custom")
    if base == "MaliciousIPCaller":
        return K8sSpec(verb, resource, namespace, subresource, threat="Known malicious host",
                       custom_list=family.endswith(".Custom"), remote=_MAL)
    if base == "TorIPCaller":
        return K8sSpec(verb, resource, namespace, subresource, threat="TorExitNode", remote="tor")
    if base == "SuccessfulAnonymousAccess":
        return K8sSpec(verb, resource, namespace, subresource, user="anonymous", remote="attacker")
    raise LookupError(f"no Kubernetes behaviour for {name}")


@cache
def recipe_for(type_name: str, *, allow_retired: bool = False) -> Recipe:
    """The recipe of an active type, or of a retired one with ``allow_retired`` (raises
    simulator.errors.InputError for unknown names, and for retired ones without the opt-in)."""
    ftype = finding_type(type_name, allow_retired=allow_retired)
    family, resource_types, spec = _classify(ftype)
    return Recipe(type_name=ftype.name, family=family, resource_types=resource_types, spec=spec,
                  severity_labels=ftype.severity_labels, severity_range=ftype.severity_range,
                  threat_purpose=ftype.threat_purpose, resource_family=ftype.resource_family,
                  data_source=ftype.data_source)


def family_of(type_name: str) -> str:
    return recipe_for(type_name).family


def types_by_family() -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {family: [] for family in FAMILIES}
    for name in sorted(active_types()):
        grouped[recipe_for(name).family].append(name)
    return grouped
