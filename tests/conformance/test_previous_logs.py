"""Behaviour 18: which container instance `pods/<name>/log` reads, and how much of it.

Sources: pkg/kubelet/kubelet_pods.go validateContainerLogStatus (`previous=true` needs
`lastState.terminated` with a containerID, else 400 `previous terminated container "<c>" in pod
"<pod>" not found`; otherwise the running instance); staging/src/k8s.io/api/core/v1/types.go
PodLogOptions (`tailLines`: the number of lines from the end of the log; `limitBytes`: the number of
bytes to read before the log is cut off). The OOMKilled and Evicted states need a kernel and a node
under pressure, so tests/integration/cluster/test_cluster_oncall.py checks the fake's own (their
shapes cite pkg/kubelet/eviction/helpers.go and oom_watcher_linux.go in the kubelet's docstring).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .harness import IMAGE, Cluster


@dataclass(frozen=True)
class Case:
    name: str
    query: dict
    status: int
    says: str = ""  # the refusal's message; {pod} is the pod's name
    most_lines: int | None = None
    most_bytes: int | None = None


CASES = [
    Case(
        "previous-of-a-container-that-never-restarted",
        {"previous": "true"},
        400,
        says='previous terminated container "app" in pod "{pod}" not found',
    ),
    Case("tail-lines", {"tailLines": "1"}, 200, most_lines=1),
    Case("tail-zero-lines", {"tailLines": "0"}, 200, most_lines=0),
    Case("limit-bytes", {"limitBytes": "5"}, 200, most_bytes=5),
]


def running_pod(cluster: Cluster) -> None:
    container = {
        "name": "app",
        "image": IMAGE,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "logs"},
        "spec": {"containers": [container]},
    }
    cluster.create("v1", "pods", pod)

    def running() -> bool:
        statuses = ((cluster.get("v1", "pods", "logs") or {}).get("status") or {}).get(
            "containerStatuses"
        ) or []
        return bool(statuses) and "running" in (statuses[0].get("state") or {})

    cluster.eventually(running, "the container running")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_which_instance_and_how_much_of_its_log(cluster: Cluster, case: Case) -> None:
    running_pod(cluster)
    answer = cluster.request("GET", cluster.path("v1", "pods", "logs") + "/log", query=case.query)
    assert answer.status == case.status, answer
    if case.says:
        assert answer.body["reason"] == "BadRequest"
        assert answer.message == case.says.replace("{pod}", "logs")
        return
    text = answer.body if isinstance(answer.body, str) else ""
    if case.most_lines is not None:
        assert len(text.splitlines()) <= case.most_lines
    if case.most_bytes is not None:
        assert len(text.encode()) <= case.most_bytes
    whole = cluster.request("GET", cluster.path("v1", "pods", "logs") + "/log").body
    assert isinstance(whole, str)
    if case.most_bytes is not None:
        assert whole.startswith(text)  # limitBytes cuts the stream: the head of the log
    else:
        assert whole.endswith(text)  # tailLines keeps the end
