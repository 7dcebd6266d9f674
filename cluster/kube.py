"""The typed API groups of one target, opened together."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from .target import ClusterTarget

if TYPE_CHECKING:  # imported by the target's client before any Kube exists
    import kubernetes.client as k

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
        from kubernetes.client import CoreV1Api

        return CoreV1Api(self.client)

    @property
    def apps(self) -> k.AppsV1Api:
        from kubernetes.client import AppsV1Api

        return AppsV1Api(self.client)

    @property
    def batch(self) -> k.BatchV1Api:
        from kubernetes.client import BatchV1Api

        return BatchV1Api(self.client)

    @property
    def storage(self) -> k.StorageV1Api:
        from kubernetes.client import StorageV1Api

        return StorageV1Api(self.client)

    @property
    def authorization(self) -> k.AuthorizationV1Api:
        from kubernetes.client import AuthorizationV1Api

        return AuthorizationV1Api(self.client)

    @property
    def version(self) -> k.VersionApi:
        from kubernetes.client import VersionApi

        return VersionApi(self.client)

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
