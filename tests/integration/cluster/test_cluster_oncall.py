"""`logs`, `events` and `describe` as a library, with the real client against the fake cluster: an
OOM-killed crash loop, an eviction, an unschedulable app, a missing app, redaction and line limits."""

from __future__ import annotations

import time

import pytest

from cluster.apps import AppNotFound
from cluster.deploy import deploy
from cluster.describe import describe_app
from cluster.errors import InvalidInput
from cluster.events import recent_events
from cluster.kube import connect
from cluster.logs import NoPods, NoPreviousInstance, NotScheduled, app_logs
from cluster.names import MAX_LINES
from testing.kube import CRASH, OOMKILL


@pytest.fixture(autouse=True)
def oom_and_eviction_by_script(fake_kube):
    """The behaviours by script as well as by image marker (`oomkill`, `evicted` in the name)."""
    fake_kube.script(lambda image: image.startswith("shop/api-oomkill"), OOMKILL)


def eventually(probe, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not seen within {seconds}s: {probe}")


def restarted(target, app, times=2):
    def probe():
        pods = describe_app(target, app).pods
        return pods and pods[0].restarts >= times and pods[0]

    return eventually(probe)


def test_an_oom_killed_app_described_in_full(fake_kube, target):
    deploy(target, "web", "shop/api-oomkill:1")
    pod = restarted(target, "web")
    (container,) = pod.containers
    assert (container.state, container.reason) == ("waiting", "CrashLoopBackOff")
    assert (container.last_reason, container.last_exit_code) == ("OOMKilled", 137)
    described = describe_app(target, "web")
    assert described.image.startswith("shop/api-oomkill:1") and described.desired == 1
    assert [rs.revision for rs in described.replica_sets] == ["1"]
    assert any(c.type == "Progressing" for c in described.conditions)
    assert any(e.reason == "BackOff" and e.warning for e in described.events)
    assert described.events == tuple(sorted(described.events, key=lambda e: e.last_seen, reverse=True))


def test_logs_of_a_crash_loop_and_its_previous_instance(fake_kube, target):
    deploy(target, "web", "shop/api-oomkill:1")
    restarted(target, "web")
    now = app_logs(target, "web")
    assert now.why == "CrashLoopBackOff" and now.container == "web" and not now.previous
    assert now.lines == ("loading the catalogue into memory", "allocated 512Mi for the cache")
    before = app_logs(target, "web", previous=True)
    assert before.previous and before.lines == now.lines  # in CrashLoopBackOff both are the crashed instance
    assert app_logs(target, "web", lines=1).lines == ("allocated 512Mi for the cache",)


def test_no_previous_instance_for_a_container_that_never_restarted(fake_kube, target):
    deploy(target, "web", "nginx:1.27")
    eventually(lambda: describe_app(target, "web").ready == 1)
    assert app_logs(target, "web").lines == ("web: started nginx:1.27",)
    with pytest.raises(NoPreviousInstance, match="has not restarted"):
        app_logs(target, "web", previous=True)


def test_the_failing_pod_is_chosen_over_a_healthy_one(fake_kube, target):
    fake_kube.script(lambda image: image.startswith("crashy"), CRASH)
    deploy(target, "web", "nginx:1.27")
    eventually(lambda: describe_app(target, "web").available == 1)
    deploy(target, "web", "crashy:2")
    eventually(lambda: any(p.restarts for p in describe_app(target, "web").pods))
    chosen = app_logs(target, "web")
    assert chosen.why == "CrashLoopBackOff" and chosen.lines[-1] == "panic: cannot start: exit status 1"
    assert len(describe_app(target, "web").replica_sets) == 2


def test_secrets_in_logs_are_redacted(fake_kube, target):
    deploy(target, "web", "nginx:1.27")
    eventually(lambda: describe_app(target, "web").ready == 1)
    pod = fake_kube.list("Pod", "default")[0]
    container_id = pod["status"]["containerStatuses"][0]["containerID"]
    fake_kube.call(fake_kube.append_log, container_id, "connecting with password=hunter2hunter2\n")
    lines = app_logs(target, "web").lines
    assert lines[-1] == "connecting with password=[redacted]" and "hunter2" not in "".join(lines)


def test_an_evicted_pod_says_why_and_is_replaced(fake_kube, target):
    deploy(target, "web", "shop/cache-evicted:1")

    def evicted():
        pods = describe_app(target, "web").pods
        return next((p for p in pods if p.reason == "Evicted"), None)

    pod = evicted() or eventually(evicted)
    assert pod.phase == "Failed"
    assert pod.message.startswith("The node was low on resource: memory. Threshold quantity: 100Mi")
    assert "Container web was using 1Gi, request is" in pod.message
    eventually(lambda: describe_app(target, "web").available == 1)  # the replacement runs
    reasons = {(e.kind, e.reason) for e in recent_events(target).events}
    assert {("Pod", "Evicted"), ("Node", "EvictionThresholdMet")} <= reasons
    assert ("Pod", "Evicted") in {(e.kind, e.reason) for e in recent_events(target, "web").events}


def test_an_unschedulable_app_has_no_logs_and_says_why(fake_kube, target):
    deploy(target, "big", "nginx:1.27")
    with connect(target) as kube:  # a node selector no node matches
        kube.apps.patch_namespaced_deployment(
            "big", "default", {"spec": {"template": {"spec": {"nodeSelector": {"disk": "nvme"}}}}}
        )
    eventually(lambda: any(not p.node for p in describe_app(target, "big").pods))
    with pytest.raises(NotScheduled, match="not scheduled yet: 0/1 nodes are available"):
        app_logs(target, "big")
    events = recent_events(target, "big").events
    assert any(e.reason == "FailedScheduling" for e in events)


def test_an_app_scaled_to_zero_has_no_pods(fake_kube, target):
    deploy(target, "idle", "nginx:1.27", replicas=0)
    with pytest.raises(NoPods, match="has no pods"):
        app_logs(target, "idle")
    assert describe_app(target, "idle").pods == ()


@pytest.mark.parametrize("call", [app_logs, describe_app, recent_events])
def test_a_missing_app_is_one_line(fake_kube, target, call):
    with pytest.raises(AppNotFound) as caught:
        call(target, "ghost")
    assert str(caught.value) == "there is no app `ghost` in namespace `default` on `fake`."


@pytest.mark.parametrize("lines", [0, -1, MAX_LINES + 1])
def test_line_counts_out_of_range_never_reach_the_cluster(fake_kube, target, lines):
    with pytest.raises(InvalidInput, match=f"between 1 and {MAX_LINES}"):
        app_logs(target, "web", lines=lines)
    assert fake_kube.api_requests() == []


def test_namespace_events_are_newest_first(fake_kube, target):
    deploy(target, "web", "nginx:1.27")
    eventually(lambda: describe_app(target, "web").ready == 1)
    listed = recent_events(target).events
    assert listed and listed == tuple(sorted(listed, key=lambda e: e.last_seen, reverse=True))
    assert {"ScalingReplicaSet", "Scheduled", "Started"} <= {e.reason for e in listed}
