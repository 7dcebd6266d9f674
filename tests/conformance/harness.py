"""One cluster for the conformance tests: the fake API server, or a real one from a kubeconfig.

Every test gets a fresh namespace and talks to the cluster only through the API, with the real
`kubernetes` client (or raw requests through its connection, for bodies the typed client will not
send), so the same test runs against FakeKube and against a real cluster. Cluster-scoped objects a
test makes carry its namespace's name and are deleted afterwards.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from kubernetes.client import ApiClient

T = TypeVar("T")
JSON = "application/json"
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"


@dataclass(frozen=True)
class Answer:
    """What the API server answered: the code, the decoded body, the Warning headers."""

    status: int
    body: Any
    warnings: tuple[str, ...] = ()
    content_type: str = ""

    @property
    def message(self) -> str:
        return self.body.get("message", "") if isinstance(self.body, dict) else str(self.body)


@dataclass
class Cluster:
    """The cluster under test, a namespace of this test's own, and how long controllers may take."""

    api: ApiClient
    namespace: str
    real: bool
    patience: float
    cleanup: list[str] = field(default_factory=list)  # paths of cluster-scoped objects made

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str = JSON,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One request through the client's own connection and credentials; never raises on 4xx/5xx."""
        header_params = {"Accept": "application/json", **(headers or {})}
        data = body  # the client's REST layer serializes JSON bodies itself
        if body is not None and "json" not in content_type and not isinstance(body, bytes | str):
            data = yaml.safe_dump(body)
        if body is not None:
            header_params["Content-Type"] = content_type
        params = self.api.param_serialize(
            method,
            path,
            query_params=list((query or {}).items()),
            header_params=header_params,
            body=data,
            auth_settings=["BearerToken"],
        )
        response = self.api.call_api(*params, _request_timeout=30)
        raw = response.read() or b""
        kind = response.getheader("Content-Type") or ""
        try:
            decoded: Any = json.loads(raw) if raw else {}
        except ValueError:
            decoded = raw.decode(errors="replace")
        warnings = tuple(v for k, v in response.headers.items() if k.lower() == "warning")
        return Answer(response.status, decoded, warnings, kind)

    def path(self, api_version: str, plural: str, name: str = "", namespaced: bool = True) -> str:
        """The URL of a resource (collection, or one object) in this test's namespace."""
        base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
        where = f"/namespaces/{self.namespace}" if namespaced else ""
        return f"{base}{where}/{plural}" + (f"/{name}" if name else "")

    def create(self, api_version: str, plural: str, body: dict, namespaced: bool = True) -> dict:
        """POST an object that must be accepted; cluster-scoped ones are deleted after the test."""
        answer = self.request("POST", self.path(api_version, plural, namespaced=namespaced), body)
        assert answer.status == 201, (answer.status, answer.message)
        if not namespaced:
            self.cleanup.append(self.path(api_version, plural, body["metadata"]["name"], namespaced=False))
        return answer.body

    def get(self, api_version: str, plural: str, name: str, namespaced: bool = True) -> dict | None:
        answer = self.request("GET", self.path(api_version, plural, name, namespaced))
        return answer.body if answer.status == 200 else None

    def unique(self, prefix: str) -> str:
        """A name for a cluster-scoped object that no other test run uses."""
        return f"{prefix}-{self.namespace}"

    def eventually(self, probe: Callable[[], T | None], what: str, patience: float | None = None) -> T:
        """Poll until `probe()` returns something truthy; fail naming `what` after the patience."""
        deadline = time.monotonic() + (patience or self.patience)
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not seen within {patience or self.patience:.0f}s")
            time.sleep(0.05 if not self.real else 1.0)

    def events_about(self, kind: str, name: str) -> list[dict]:
        """core/v1 Events whose involvedObject is kind/name, in this namespace."""
        selector = f"involvedObject.kind={kind},involvedObject.name={name}"
        answer = self.request("GET", self.path("v1", "events"), query={"fieldSelector": selector})
        return answer.body.get("items", []) if answer.status == 200 else []

    def close(self) -> None:
        for path in reversed(self.cleanup):
            self.request("DELETE", path)
        self.request("DELETE", f"/api/v1/namespaces/{self.namespace}")


def fresh_namespace(api: ApiClient, real: bool, labels: dict[str, str] | None = None) -> Cluster:
    name = f"conf-{secrets.token_hex(4)}"
    cluster = Cluster(api, name, real, patience=240.0 if real else 15.0)
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}
    answer = cluster.request("POST", "/api/v1/namespaces", body)
    assert answer.status == 201, answer.message
    # Pods need the namespace's `default` ServiceAccount, which a controller makes shortly after.
    cluster.eventually(lambda: cluster.get("v1", "serviceaccounts", "default"), "the default ServiceAccount")
    return cluster


# Runs as a non-root user on a real cluster, so the restricted securityContext below can hold.
IMAGE = "nginxinc/nginx-unprivileged:1.27-alpine"


def deployment(name: str = "web", image: str = IMAGE, replicas: int = 1, **pod: Any) -> dict:
    """A small Deployment whose pod template passes Pod Security `restricted` unless `pod` says more."""
    container: dict[str, Any] = {
        "name": "app",
        "image": image,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    container.update(pod.pop("container", {}))
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container], **pod},
            },
        },
    }


def condition(obj: dict | None, type_: str) -> dict | None:
    return next(
        (c for c in ((obj or {}).get("status") or {}).get("conditions") or [] if c["type"] == type_), None
    )
