"""Which cluster and namespace a conversation works on, and how k8or authenticates to it.

A target comes from a kubeconfig context, or from EKS: DescribeCluster gives the endpoint and CA, and
the bearer token is made the way aws-iam-authenticator makes it — a presigned STS GetCallerIdentity
URL, signed with the `x-k8s-aws-id: <cluster>` header, base64url-encoded behind `k8s-aws-v1.`.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import urllib3

from clock import SYSTEM_CLOCK, Clock, fresh

from .errors import TargetError, api_errors
from .names import dns_label

if TYPE_CHECKING:  # boto3 and botocore ship no types; the names document what is passed
    import boto3
    import kubernetes.client  # imported where a target is built, not at start (issue 10)
    from botocore.awsrequest import AWSRequest

EKS_PREFIX = "eks:"
TOKEN_PREFIX = "k8s-aws-v1."
TOKEN_LIFETIME = 14 * 60  # EKS accepts a token for 15 minutes; refresh a minute early
_GROUP_SEP = "\n"  # header values cannot hold newlines, so groups travel joined by one internally


SYSTEM_PREFIX = "system:"  # Kubernetes' own users and groups (system:masters is cluster-admin)


@dataclass(frozen=True)
class Impersonation:
    """Act as this person so the cluster's own RBAC decides (Impersonate-User / Impersonate-Group).

    Built only from identity k8or trusts. Kubernetes' reserved `system:` names are never sent: a
    `system:` user is refused, `system:` groups are dropped, as is any name a header cannot carry.
    """

    user: str
    groups: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _sendable(self.user) or self.user.strip().lower().startswith(SYSTEM_PREFIX):
            raise TargetError(
                f"k8or will not act on a cluster as {self.user!r}: names starting with `system:` "
                "belong to Kubernetes itself."
            )
        kept = tuple(g for g in self.groups if _sendable(g) and not g.lower().startswith(SYSTEM_PREFIX))
        object.__setattr__(self, "groups", kept)


def _sendable(name: str) -> bool:
    """A non-empty name of printable characters: no newline can split one header into two."""
    return bool(name) and name.isprintable() and name == name.strip()


@dataclass(frozen=True)
class EksCluster:
    """Where an EKS target came from; preflight uses it to check node groups."""

    name: str
    region: str
    session: boto3.Session = field(repr=False, compare=False)
    endpoint_url: str | None = None  # override for tests (moto) and private endpoints


@dataclass(frozen=True)
class ClusterTarget:
    """A cluster (by display name), a namespace and the client configuration to reach them."""

    name: str
    namespace: str
    configuration: kubernetes.client.Configuration = field(repr=False, compare=False)
    impersonation: Impersonation | None = None
    eks: EksCluster | None = None
    request_timeout: float = 30.0  # seconds to wait for an answer; watches pass their own

    def in_namespace(self, namespace: str) -> ClusterTarget:
        """The same cluster, another namespace (validated as a DNS-1123 label)."""
        return dataclasses.replace(self, namespace=dns_label(namespace, "namespace"))

    def impersonating(self, impersonation: Impersonation | None) -> ClusterTarget:
        """The same target acting as a person, so the cluster's own RBAC applies."""
        return dataclasses.replace(self, impersonation=impersonation)

    def with_timeout(self, seconds: float) -> ClusterTarget:
        return dataclasses.replace(self, request_timeout=seconds)

    def api_client(self) -> kubernetes.client.ApiClient:
        """A client for this target; impersonation headers and a request timeout ride on every request."""
        import kubernetes.client

        client = kubernetes.client.ApiClient(self.configuration)
        if self.impersonation:
            client.set_default_header("Impersonate-User", self.impersonation.user)
            if self.impersonation.groups:
                client.set_default_header("Impersonate-Group", _GROUP_SEP.join(self.impersonation.groups))
        _adjust_requests(
            client, urllib3.Timeout(connect=min(5.0, self.request_timeout), read=self.request_timeout)
        )
        return client


def _adjust_requests(client: kubernetes.client.ApiClient, timeout: urllib3.Timeout) -> None:
    """Two things the generated client cannot express, applied just before urllib3 sends:
    - a default timeout (it passes timeout=None, which means "wait forever"), so a silent cluster
      cannot hang a chat turn; calls that pass their own timeout keep it;
    - one Impersonate-Group header per group (the API server reads one group per header, but the
      client keeps headers in a plain dict)."""
    pool = client.rest_client.pool_manager
    original = pool.request

    # The arguments are urllib3's own (typed `**urlopen_kw: Any` there) and pass through untouched.
    def request(method: str, url: str, *args: Any, **kwargs: Any) -> urllib3.BaseHTTPResponse:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = timeout
        headers: Mapping[str, str] | None = kwargs.get("headers")
        if headers and _GROUP_SEP in str(headers.get("Impersonate-Group", "")):
            expanded = urllib3.HTTPHeaderDict()
            for key, value in headers.items():
                for one in value.split(_GROUP_SEP) if key == "Impersonate-Group" else [value]:
                    expanded.add(key, one)
            kwargs["headers"] = expanded
        return original(method, url, *args, **kwargs)

    pool.request = request  # type: ignore[method-assign]  # per client, on purpose: see above


def list_contexts(kubeconfig: str) -> list[str]:
    """The context names a kubeconfig file offers."""
    from kubernetes import config as kube_config

    with api_errors(f"read kubeconfig {kubeconfig}"):
        contexts, _ = kube_config.list_kube_config_contexts(config_file=kubeconfig)
    return [c["name"] for c in contexts]


def from_kubeconfig(
    kubeconfig: str, context: str | None = None, namespace: str | None = None
) -> ClusterTarget:
    """A target from a kubeconfig context; the namespace defaults to the context's own, then `default`."""
    import kubernetes.client
    from kubernetes import config as kube_config

    with api_errors(f"use context {context or '(current)'}"):
        contexts, current = kube_config.list_kube_config_contexts(config_file=kubeconfig)
        chosen = next((c for c in contexts if c["name"] == context), None) if context else current
        if chosen is None:
            names = ", ".join(c["name"] for c in contexts) or "none"
            raise TargetError(f"context {context!r} is not in the kubeconfig (contexts: {names}).")
        configuration = kubernetes.client.Configuration()
        kube_config.load_kube_config(
            config_file=kubeconfig,
            context=chosen["name"],
            client_configuration=configuration,
            persist_config=False,
        )
    ns = namespace or chosen.get("context", {}).get("namespace") or "default"
    return ClusterTarget(chosen["name"], dns_label(ns, "namespace"), configuration)


def eks_token(session: boto3.Session, cluster: str, region: str, sts_endpoint_url: str | None = None) -> str:
    """A bearer token for EKS, as aws-iam-authenticator and `aws eks get-token` make it."""
    sts = session.client("sts", region_name=region, endpoint_url=sts_endpoint_url)

    def add_cluster_header(request: AWSRequest, **_: object) -> None:
        request.headers["x-k8s-aws-id"] = cluster

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET")
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


class _TokenRefresher:
    """Configuration.refresh_api_key_hook: mint a fresh EKS token before the old one expires."""

    def __init__(
        self,
        session: boto3.Session,
        cluster: str,
        region: str,
        sts_endpoint_url: str | None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._args = (session, cluster, region, sts_endpoint_url)
        self._clock = clock
        self._minted: float | None = None  # never minted: mint now, whatever the clock reads
        self._lock = threading.Lock()

    def __call__(self, configuration: kubernetes.client.Configuration) -> None:
        with self._lock:
            if fresh(self._clock, self._minted, TOKEN_LIFETIME):
                return
            configuration.api_key["authorization"] = eks_token(*self._args)
            configuration.api_key_prefix["authorization"] = "Bearer"
            self._minted = self._clock.monotonic()


def from_eks(
    session: boto3.Session,
    cluster: str,
    region: str,
    namespace: str = "default",
    eks_endpoint_url: str | None = None,
    sts_endpoint_url: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> ClusterTarget:
    """A target for EKS cluster `cluster`, through the person's AWS session (their connector)."""
    import kubernetes.client

    with api_errors(f"describe EKS cluster {cluster}"):
        eks = session.client("eks", region_name=region, endpoint_url=eks_endpoint_url)
        info = eks.describe_cluster(name=cluster)["cluster"]
    endpoint = info.get("endpoint")
    ca_data = (info.get("certificateAuthority") or {}).get("data")
    if not endpoint or not ca_data:
        raise TargetError(f"EKS cluster {cluster} has no endpoint or CA yet (status {info.get('status')}).")
    configuration = kubernetes.client.Configuration()
    configuration.host = endpoint
    configuration.ssl_ca_cert = _ca_file(ca_data)
    configuration.api_key = {}
    configuration.api_key_prefix = {}
    refresher = _TokenRefresher(session, cluster, region, sts_endpoint_url, clock)
    # The generated Configuration declares the hook as None; it calls any callable it finds there.
    configuration.refresh_api_key_hook = refresher  # type: ignore[assignment]
    refresher(configuration)
    eks_info = EksCluster(cluster, region, session, eks_endpoint_url)
    return ClusterTarget(EKS_PREFIX + cluster, dns_label(namespace, "namespace"), configuration, eks=eks_info)


def _ca_file(data: str) -> str:
    """The client wants the CA as a file; EKS gives it base64-encoded. One file per distinct CA, so
    building a target for every chat command does not leave a file behind each time."""
    pem = base64.b64decode(data)
    path = Path(tempfile.gettempdir()) / f"k8or-eks-ca-{hashlib.sha256(pem).hexdigest()[:16]}.crt"
    if not path.exists() or path.read_bytes() != pem:
        scratch = path.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_bytes(pem)
        scratch.replace(path)  # atomic: concurrent commands never read a half-written CA
    return str(path)
