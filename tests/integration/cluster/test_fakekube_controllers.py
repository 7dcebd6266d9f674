"""The fake's controllers behave as Kubernetes documents them."""

from __future__ import annotations

import time

import pytest

from testing.kube import CRASH

REVISION = "deployment.kubernetes.io/revision"


def eventually(probe, timeout=5.0):
    """Poll until probe() is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout}s")


def deployment(name="web", image="nginx:1.27", replicas=2, **spec):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
            **spec,
        },
    }


def set_image(fake, name, image):
    from testing.kube.kinds import BY_KIND

    kind = BY_KIND["Deployment"]

    def change():
        old = fake.store.get(kind, "default", name)
        fake.api.patch(
            kind,
            "default",
            name,
            {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}},
            "application/strategic-merge-patch+json",
            "test",
            False,
        )
        return old

    fake.call(change)


def condition(obj, type_):
    return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == type_), {})


def complete(fake, name="web"):
    dep = fake.get("Deployment", name, "default")
    return condition(dep, "Progressing").get("reason") == "NewReplicaSetAvailable" and dep


def owned(fake, kind, owner):
    return [
        o
        for o in fake.list(kind, "default")
        if any(r["uid"] == owner["metadata"]["uid"] for r in o["metadata"].get("ownerReferences", []))
    ]


def test_deployment_makes_a_replicaset_and_pods(fake_kube):
    fake_kube.add(deployment())
    dep = eventually(lambda: complete(fake_kube))
    (rs,) = owned(fake_kube, "ReplicaSet", dep)
    pth = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{pth}" and rs["metadata"]["annotations"][REVISION] == "1"
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": pth}
    pods = owned(fake_kube, "Pod", rs)
    assert len(pods) == 2 and all(p["status"]["phase"] == "Running" for p in pods)
    assert pods[0]["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
    status = dep["status"]
    assert (status["updatedReplicas"], status["readyReplicas"], status["availableReplicas"]) == (2, 2, 2)
    assert status["observedGeneration"] == dep["metadata"]["generation"]
    assert condition(dep, "Available")["status"] == "True"


def test_revisions_increase_and_move_to_the_old_replicaset_on_rollback(fake_kube):
    fake_kube.add(deployment())
    eventually(lambda: complete(fake_kube))
    set_image(fake_kube, "web", "nginx:1.28")
    dep = eventually(
        lambda: (d := complete(fake_kube)) and d["metadata"]["annotations"][REVISION] == "2" and d
    )
    sets = {
        rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs
        for rs in owned(fake_kube, "ReplicaSet", dep)
    }
    assert sets["nginx:1.27"]["spec"]["replicas"] == 0 and sets["nginx:1.28"]["spec"]["replicas"] == 2
    set_image(fake_kube, "web", "nginx:1.27")  # the old template comes back: its ReplicaSet is reused
    dep = eventually(
        lambda: (d := complete(fake_kube)) and d["metadata"]["annotations"][REVISION] == "3" and d
    )
    sets = {
        rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs
        for rs in owned(fake_kube, "ReplicaSet", dep)
    }
    assert len(sets) == 2
    assert sets["nginx:1.27"]["metadata"]["annotations"][REVISION] == "3"
    assert sets["nginx:1.27"]["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"


def test_foreground_deletion_removes_dependents_first(fake_kube):
    from testing.kube.kinds import BY_KIND

    fake_kube.add(deployment())
    dep = eventually(lambda: complete(fake_kube))
    fake_kube.call(fake_kube.api.delete, BY_KIND["Deployment"], "default", "web", "Foreground")
    marked = fake_kube.get("Deployment", "web", "default")
    assert marked is not None and marked["metadata"]["deletionTimestamp"]
    assert "foregroundDeletion" in marked["metadata"]["finalizers"]
    eventually(lambda: fake_kube.get("Deployment", "web", "default") is None)
    assert owned(fake_kube, "ReplicaSet", dep) == [] and fake_kube.list("Pod", "default") == []


def test_orphan_deletion_keeps_replicasets(fake_kube):
    from testing.kube.kinds import BY_KIND

    fake_kube.add(deployment())
    eventually(lambda: complete(fake_kube))
    fake_kube.call(fake_kube.api.delete, BY_KIND["Deployment"], "default", "web", "Orphan")
    eventually(lambda: fake_kube.get("Deployment", "web", "default") is None)
    time.sleep(0.2)
    (rs,) = fake_kube.list("ReplicaSet", "default")
    assert "ownerReferences" not in rs["metadata"] and len(fake_kube.list("Pod", "default")) == 2


def test_background_deletion_collects_orphaned_dependents(fake_kube):
    from testing.kube.kinds import BY_KIND

    fake_kube.add(deployment())
    eventually(lambda: complete(fake_kube))
    fake_kube.call(fake_kube.api.delete, BY_KIND["Deployment"], "default", "web", "Background")
    assert fake_kube.get("Deployment", "web", "default") is None
    eventually(lambda: not fake_kube.list("ReplicaSet", "default") and not fake_kube.list("Pod", "default"))


def claim(name, cls):
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if cls:
        spec["storageClassName"] = cls
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


def storage_class(name, mode="Immediate"):
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name},
        "provisioner": "ebs.csi.aws.com",
        "volumeBindingMode": mode,
    }


def events_for(fake, name):
    return [
        (e["type"], e["reason"], e["message"])
        for e in fake.list("Event", "default")
        if e["involvedObject"]["name"] == name
    ]


def test_claims_bind_wait_for_a_consumer_or_explain(fake_kube):
    fake_kube.add(storage_class("fast"))
    fake_kube.add(storage_class("late", "WaitForFirstConsumer"))
    for name, cls in (("now", "fast"), ("later", "late"), ("never", "missing")):
        fake_kube.add(claim(name, cls))
    bound = eventually(
        lambda: (
            (c := fake_kube.get("PersistentVolumeClaim", "now", "default"))
            and c["status"]["phase"] == "Bound"
            and c
        )
    )
    pv = fake_kube.get("PersistentVolume", bound["spec"]["volumeName"])
    assert pv["spec"]["claimRef"]["name"] == "now" and pv["spec"]["capacity"]["storage"] == "1Gi"
    assert ("Warning", "ProvisioningFailed", 'storageclass.storage.k8s.io "missing" not found') in eventually(
        lambda: events_for(fake_kube, "never")
    )
    eventually(lambda: any(r == "WaitForFirstConsumer" for _, r, _ in events_for(fake_kube, "later")))
    assert fake_kube.get("PersistentVolumeClaim", "later", "default")["status"]["phase"] == "Pending"
    dep = deployment("user", replicas=1)
    dep["spec"]["template"]["spec"]["volumes"] = [
        {"name": "v", "persistentVolumeClaim": {"claimName": "later"}}
    ]
    fake_kube.add(dep)
    eventually(
        lambda: fake_kube.get("PersistentVolumeClaim", "later", "default")["status"]["phase"] == "Bound"
    )
    eventually(lambda: complete(fake_kube, "user"))


def test_a_pending_claim_is_not_re_recorded_every_tick(fake_kube):
    """The PV controller resyncs every 15 s, and a source may record 25 events about an object, then
    one per 5 minutes (client-go tools/record/events_cache.go). Half a real second is 300 fake
    seconds: some 20 resyncs, where the old fake recorded at every 20 ms tick."""
    fake_kube.add({**storage_class("nobody"), "provisioner": "conformance.k8or.invalid"})
    fake_kube.add(claim("stuck", "nobody"))
    time.sleep(0.5)
    (event,) = [e for e in fake_kube.list("Event", "default") if e["involvedObject"]["name"] == "stuck"]
    assert (event["reason"], event["source"]["component"]) == (
        "ExternalProvisioning",
        "persistentvolume-controller",
    )
    assert 2 <= event["count"] <= 21


def job(name, script, image="busybox:1.36"):
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "backoffLimit": 1,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": image, "command": ["sh", "-c", script]}],
                }
            },
        },
    }


def test_jobs_complete_or_fail_and_their_logs_are_served(fake_kube):
    fake_kube.seed_image("busybox:1.36", {"/usr/bin/busybox": 1000, "/usr/lib/x": 24})
    fake_kube.add(job("ok", "echo hello; du -sb /usr"))
    fake_kube.add(job("bad", "cp -a /nothing/. /tmp/"))
    done = eventually(
        lambda: condition(fake_kube.get("Job", "ok", "default"), "Complete").get("status") == "True"
    )
    assert done
    failed = eventually(
        lambda: (
            (j := fake_kube.get("Job", "bad", "default"))
            and condition(j, "Failed").get("reason") == "BackoffLimitExceeded"
            and j
        )
    )
    assert failed["status"]["failed"] == 2
    (pod,) = [p for p in fake_kube.list("Pod", "default") if p["metadata"]["labels"]["job-name"] == "ok"]
    assert pod["status"]["phase"] == "Succeeded"
    log = fake_kube.pod_log("default", pod["metadata"]["name"], None)
    assert log == f"hello\n{1024 + 3 * 4096}\t/usr\n"


def pod_of(fake, app):
    pods = [p for p in fake.list("Pod", "default") if p["metadata"]["labels"].get("app") == app]
    return pods[0] if pods else None


def waiting_reason(pod):
    statuses = (pod or {}).get("status", {}).get("containerStatuses") or [{}]
    return statuses[0].get("state", {}).get("waiting", {}).get("reason")


def test_image_pull_failure(fake_kube):
    fake_kube.add(deployment("pull", image="example.com/doesnotexist:1", replicas=1))
    eventually(lambda: waiting_reason(pod_of(fake_kube, "pull")) == "ImagePullBackOff")
    pod = pod_of(fake_kube, "pull")
    assert any(
        t == "Warning" and "Failed to pull image" in m
        for t, _, m in events_for(fake_kube, pod["metadata"]["name"])
    )


def test_crash_loop_restarts_rise(fake_kube):
    fake_kube.script(lambda image: image.startswith("flaky"), CRASH)
    fake_kube.add(deployment("crash", image="flaky:2", replicas=1))
    pod = eventually(
        lambda: (
            (p := pod_of(fake_kube, "crash"))
            and p["status"]["containerStatuses"][0]["restartCount"] >= 3
            and p
        )
    )
    assert waiting_reason(pod) == "CrashLoopBackOff"
    assert pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] == 1


def test_never_ready_exceeds_the_progress_deadline(fake_kube):
    fake_kube.add(deployment("slow", image="app-neverready:1", replicas=1, progressDeadlineSeconds=120))
    dep = eventually(
        lambda: (
            (d := fake_kube.get("Deployment", "slow", "default"))
            and condition(d, "Progressing").get("reason") == "ProgressDeadlineExceeded"
            and d
        )
    )
    assert condition(dep, "Progressing")["status"] == "False"
    assert condition(dep, "Available")["status"] == "False"


def test_unschedulable_pod_stays_pending_with_an_event(fake_kube):
    dep = deployment("huge", replicas=1)
    dep["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "64"}}
    fake_kube.add(dep)
    pod = eventually(
        lambda: (p := pod_of(fake_kube, "huge")) and condition(p, "PodScheduled").get("reason") and p
    )
    assert pod["status"]["phase"] == "Pending"
    assert ("Warning", "FailedScheduling", "0/1 nodes are available: 1 Insufficient cpu.") in events_for(
        fake_kube, pod["metadata"]["name"]
    )


@pytest.mark.parametrize("mode", ["Recreate", "RollingUpdate"])
def test_rollout_strategies_reach_the_new_template(fake_kube, mode):
    strategy = (
        {"type": mode}
        if mode == "Recreate"
        else {"type": mode, "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    )
    fake_kube.add(deployment(replicas=3, strategy=strategy))
    eventually(lambda: complete(fake_kube))
    set_image(fake_kube, "web", "nginx:1.28")
    eventually(lambda: (d := complete(fake_kube)) and d["metadata"]["annotations"][REVISION] == "2")
    images = {p["spec"]["containers"][0]["image"] for p in fake_kube.list("Pod", "default")}
    assert images == {"nginx:1.28"}


def test_controllers_write_only_schema_valid_objects(fake_kube):
    """Everything the controllers create or update passes kubernetes-validate in strict mode too."""
    fake_kube.validate_every_write()
    fake_kube.add(storage_class("fast"))
    fake_kube.add(claim("data", "fast"))
    dep = deployment(replicas=2)
    dep["spec"]["template"]["spec"]["volumes"] = [
        {"name": "v", "persistentVolumeClaim": {"claimName": "data"}}
    ]
    fake_kube.add(dep)
    fake_kube.add(job("once", "echo done"))
    fake_kube.add(deployment("pull", image="example.com/doesnotexist:1", replicas=1))
    eventually(lambda: complete(fake_kube))
    eventually(lambda: condition(fake_kube.get("Job", "once", "default"), "Complete").get("status") == "True")
    eventually(lambda: waiting_reason(pod_of(fake_kube, "pull")) == "ImagePullBackOff")
    set_image(fake_kube, "web", "nginx:1.28")
    eventually(lambda: (d := complete(fake_kube)) and d["metadata"]["annotations"][REVISION] == "2")
    from testing.kube.kinds import BY_KIND

    fake_kube.call(fake_kube.api.delete, BY_KIND["Deployment"], "default", "web", "Foreground")
    eventually(lambda: fake_kube.get("Deployment", "web", "default") is None)
    assert fake_kube.errors == []
