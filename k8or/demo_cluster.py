"""The demo cluster: the fake Kubernetes API server of the tests (`testing.kube`), started in this process.

It has one Ready node, the namespaces `default`, `kube-system` and `demo`, and a default StorageClass
whose provisioner answers, so `deploy`, `volume create` and `status` behave as on a small real
cluster. It listens on 127.0.0.1 only, keeps everything in memory, and its kubeconfig (context
`demo`, namespace `demo`) goes into the demo's temporary folder: nothing outlives the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

CONTEXT = "demo"
NAMESPACE = "demo"
NODE = "demo-node"
STORAGE_CLASS = "standard"
PROVISIONER = "demo.k8or.local/hostpath"
# Fake time runs this much faster than real time: a rollout takes a few seconds to watch, not minutes.
SPEED = 20.0
MISSING_EXTRA = (
    "k8or demo needs the fake Kubernetes API server's schema checker: "
    "pip install -e '.[demo]' (`make demo` installs it)."
)


class DemoUnavailable(RuntimeError):
    """The demo cluster cannot start here; the message says what to install."""


@dataclass
class DemoCluster:
    """A running demo cluster and the kubeconfig that reaches it."""

    fake: Any  # testing.kube.FakeKube: the tests' fake, which is not type-checked as the product is
    kubeconfig: Path

    @property
    def url(self) -> str:
        return self.fake.url

    def stop(self) -> None:
        self.fake.stop()


def start_demo_cluster(folder: Path, speed: float = SPEED) -> DemoCluster:
    """Start the fake API server on 127.0.0.1 with a node, the `demo` namespace and a default
    StorageClass, and write its kubeconfig into `folder`."""
    try:
        fake_kube = import_module("testing.kube").FakeKube
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("kubernetes_validate", "jsonschema", "referencing"):
            raise DemoUnavailable(MISSING_EXTRA) from None
        raise
    fake = fake_kube(tick=0.05, speed=speed).start()
    try:
        for namespace in ("default", "kube-system", NAMESPACE):
            fake.add_namespace(namespace)
        fake.add_node(NODE)
        fake.add(_default_storage_class())
        kubeconfig = fake.write_kubeconfig(folder / "kubeconfig", {CONTEXT: NAMESPACE})
    except BaseException:
        fake.stop()
        raise
    kubeconfig.chmod(0o600)  # it holds the fake's bearer token
    return DemoCluster(fake, kubeconfig)


def _default_storage_class() -> dict[str, Any]:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": STORAGE_CLASS,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }
