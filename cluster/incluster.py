"""The cluster k8or runs in, reached with its pod's own ServiceAccount.

When k8or runs in a pod whose ServiceAccount token is mounted (manifests/overlays/in-cluster), the
API server is at KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT and the token, CA and namespace
are files under /var/run/secrets/kubernetes.io/serviceaccount. The kubernetes client's own
in-cluster loader (what `kubernetes.config.load_incluster_config()` runs) reads them and re-reads
the token every minute, so the kubelet's rotation of bound tokens is followed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import TargetError
from .names import dns_label
from .target import ClusterTarget

IN_CLUSTER = "in-cluster"  # the name `cluster use` knows it by
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
SERVICE_HOST_ENV_NAME = "KUBERNETES_SERVICE_HOST"  # set by the kubelet in every pod
SERVICE_PORT_ENV_NAME = "KUBERNETES_SERVICE_PORT"


@dataclass(frozen=True)
class InClusterAccount:
    """Where the pod's ServiceAccount is: the mounted files and the environment the kubelet sets."""

    directory: Path = SERVICE_ACCOUNT_DIR
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ, repr=False)

    @property
    def token_file(self) -> Path:
        return self.directory / "token"

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.crt"

    def available(self) -> bool:
        """True in a pod with the API server's address and a mounted token."""
        has_address = bool(
            self.environ.get(SERVICE_HOST_ENV_NAME) and self.environ.get(SERVICE_PORT_ENV_NAME)
        )
        return has_address and self.token_file.is_file() and self.ca_file.is_file()

    def own_namespace(self) -> str:
        """The pod's namespace (the mounted `namespace` file), else `default`."""
        try:
            return self.directory.joinpath("namespace").read_text().strip() or "default"
        except OSError:
            return "default"

    def target(self, namespace: str | None = None) -> ClusterTarget:
        """A target on this cluster; the namespace defaults to the pod's own."""
        # Imported here: the Kubernetes client loads at the first cluster command, not at start.
        import kubernetes.client
        from kubernetes.config.config_exception import ConfigException
        from kubernetes.config.incluster_config import InClusterConfigLoader

        configuration = kubernetes.client.Configuration()
        loader = InClusterConfigLoader(str(self.token_file), str(self.ca_file), environ=self.environ)
        try:
            loader.load_and_set(configuration)
        except ConfigException as exc:
            raise TargetError(
                f"k8or cannot reach the cluster it runs in: {exc} "
                "(deploy it with manifests/overlays/in-cluster to mount its ServiceAccount token)."
            ) from None
        ns = dns_label(namespace or self.own_namespace(), "namespace")
        return ClusterTarget(IN_CLUSTER, ns, configuration)


def mounted_account() -> InClusterAccount | None:
    """The pod's ServiceAccount when its token is mounted here; None anywhere else."""
    account = InClusterAccount()
    return account if account.available() else None
