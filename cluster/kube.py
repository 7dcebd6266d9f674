"""The typed API groups of one target, opened together."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

import kubernetes.client as k

from .target import ClusterTarget

FIELD_MANAGER = "k8or"


@dataclass
class Kube:
    """Typed APIs sharing one client, plus the target's namespace."""

    target: ClusterTarget
    client: k.ApiClient

    @property
    def namespace(self) -> str:
        return self.target.namespace

    @property
    def core(self) -> k.CoreV1Api:
        return k.CoreV1Api(self.client)

    @property
    def apps(self) -> k.AppsV1Api:
        return k.AppsV1Api(self.client)

    @property
    def batch(self) -> k.BatchV1Api:
        return k.BatchV1Api(self.client)

    @property
    def storage(self) -> k.StorageV1Api:
        return k.StorageV1Api(self.client)

    @property
    def version(self) -> k.VersionApi:
        return k.VersionApi(self.client)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Kube:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def connect(target: ClusterTarget) -> Kube:
    """Open the APIs of a target; use as a context manager to close the connection pool."""
    return Kube(target, target.api_client())
