"""Rollouts followed live, the failure reasons they report, and rollbacks like `kubectl rollout undo`."""

from __future__ import annotations

import pytest

from cluster.deploy import deploy
from cluster.errors import NotFound
from cluster.rollback import list_revisions, rollback
from cluster.rollout import COMPLETE, FAILED, RolloutWatcher
from cluster.status import app_status, namespace_status
from testing.kube import CRASH
from testing.kube.kinds import BY_KIND


def follow(target, app, timeout=20):
    return list(RolloutWatcher(target, app, timeout=timeout))


def test_progress_snapshots_end_complete(target):
    deploy(target, "web", "nginx:1.27", replicas=3)
    snapshots = follow(target, "web")
    assert snapshots[-1].state == COMPLETE and snapshots[-1].line.endswith("rollout complete")
    assert len(snapshots) >= 2 and snapshots[0].state == "running"
    assert len({s.key() for s in snapshots}) == len(snapshots)  # each snapshot says something new


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        ("registry.example.com/doesnotexist:1", "ImagePullBackOff"),
        ("crashy:1", "CrashLoopBackOff"),
        ("app-neverready:1", "ProgressDeadlineExceeded"),
    ],
)
def test_failures_name_the_pod_and_reason(fake_kube, target, image, reason):
    fake_kube.script(lambda i: i.startswith("crashy"), CRASH)
    deploy(target, "web", image, replicas=1, progress_deadline=120)
    last = follow(target, "web")[-1]
    assert last.state == FAILED and last.reason == reason
    assert last.problem is not None and last.problem.pod.startswith("web-")
    assert reason in last.line and last.problem.pod in last.line


def test_a_rollback_off_a_crash_loop_waits_for_the_controller_before_judging(fake_kube, target):
    """Until the controller observes the rollback, the newest ReplicaSet is still the crash-looping one:
    judging its pods then would call the rollback failed before it starts."""
    fake_kube.script(lambda i: i.startswith("crashy"), CRASH)
    deploy(target, "web", "nginx:1.27", replicas=1)
    assert follow(target, "web")[-1].state == COMPLETE
    deploy(target, "web", "crashy:2", replicas=1, progress_deadline=120)
    assert follow(target, "web")[-1].reason == "CrashLoopBackOff"
    fake_kube.paused = True
    rollback(target, "web", to_revision=1)
    watcher = iter(RolloutWatcher(target, "web", timeout=20))
    first = next(watcher)
    assert (first.state, first.revision, first.problem) == ("running", "2", None)
    assert first.message == "waiting for the deployment spec update to be observed"
    fake_kube.paused = False
    last = list(watcher)[-1]
    assert (last.state, last.revision) == (COMPLETE, "3")


def runtime_class(manifest):
    manifest["spec"]["template"]["spec"]["runtimeClassName"] = "gvisor"
    return manifest


def service_account(manifest):
    manifest["spec"]["template"]["spec"]["serviceAccountName"] = "web"
    return manifest


def cpu_quota(fake):
    fake.add(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "compute", "namespace": "default"},
            "spec": {"hard": {"limits.cpu": "2"}},
        }
    )


@pytest.mark.parametrize(
    ("prepare", "hook", "refusal"),
    [
        (None, runtime_class, 'pod rejected: RuntimeClass "gvisor" not found'),
        (
            None,
            service_account,
            'error looking up service account default/web: serviceaccount "web" not found',
        ),
        (cpu_quota, None, "failed quota: compute: must specify limits.cpu for: web"),
    ],
    ids=["runtimeclass", "serviceaccount", "quota"],
)
def test_a_refused_pod_fails_the_rollout_at_once_with_the_admission_message(
    fake_kube, target, prepare, hook, refusal
):
    """A real ReplicaSet whose pods admission refuses has no pod to explain it: the follower reads the
    ReplicaFailure condition the Deployment copies, rather than waiting out the progress deadline."""
    if prepare:
        prepare(fake_kube)
    deploy(target, "web", "nginx:1.27", progress_deadline=6000, k8orize=hook)  # 10 s real
    last = follow(target, "web", timeout=5)[-1]  # well before the deadline
    assert last.state == FAILED and last.reason == "FailedCreate" and last.problem is None
    assert last.message.startswith('pods "web-') and last.message.endswith(f" is forbidden: {refusal}")
    assert last.message in last.line


def test_unschedulable_reports_pending_with_the_scheduler_message(fake_kube, target):
    fake_kube.add_node("node-2", ready=False)
    fake_kube.call(lambda: None)
    from cluster.deploy import apply_deployment
    from cluster.render import render_deployment

    manifest = render_deployment("web", "nginx:1.27", progress_deadline=120)
    manifest["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "32"
    apply_deployment(target, manifest)
    last = follow(target, "web")[-1]
    assert last.state == FAILED and last.reason == "Pending"
    assert "Insufficient cpu" in last.problem.message and "0/2 nodes are available" in last.problem.message


def test_timeout_when_the_rollout_outlasts_the_wait(target):
    deploy(target, "web", "app-neverready:1", replicas=1, progress_deadline=6000)  # 10 s real
    last = follow(target, "web", timeout=0.3)[-1]
    assert last.state == "timeout" and last.problem and last.problem.reason == "NotReady"


def template_of(kube_fake, rs_image):
    for rs in kube_fake.list("ReplicaSet", "default"):
        if rs["spec"]["template"]["spec"]["containers"][0]["image"] == rs_image:
            template = rs["spec"]["template"]
            template["metadata"]["labels"].pop("pod-template-hash")
            return template
    raise AssertionError(rs_image)


def three_revisions(target):
    for image in ("nginx:1.25", "nginx:1.26", "nginx:1.27"):
        deploy(target, "web", image, replicas=2)
        assert follow(target, "web")[-1].state == COMPLETE


def test_revisions_listed_with_image_and_current(target):
    three_revisions(target)
    revisions = list_revisions(target, "web")
    assert [(r.number, r.image, r.current, r.change_cause) for r in revisions] == [
        (1, "nginx:1.25", False, "k8or deploy web nginx:1.25"),
        (2, "nginx:1.26", False, "k8or deploy web nginx:1.26"),
        (3, "nginx:1.27", True, "k8or deploy web nginx:1.27"),
    ]


def test_rollback_to_previous_restores_its_template(fake_kube, target):
    three_revisions(target)
    result = rollback(target, "web")
    assert (result.from_revision, result.to_revision, result.image) == (3, 2, "nginx:1.26")
    snapshots = follow(target, "web")
    assert snapshots[-1].state == COMPLETE and snapshots[-1].revision == "4"
    dep = fake_kube.get("Deployment", "web", "default")
    assert dep["spec"]["template"] == template_of(fake_kube, "nginx:1.26")
    assert [r.number for r in list_revisions(target, "web")] == [1, 3, 4]
    # The ReplicaSet inherited the annotations of its revision; undo brings them back.
    assert dep["metadata"]["annotations"]["kubernetes.io/change-cause"] == "k8or deploy web nginx:1.26"


def test_rollback_to_a_given_revision(fake_kube, target):
    three_revisions(target)
    assert rollback(target, "web", to_revision=1).image == "nginx:1.25"
    assert follow(target, "web")[-1].state == COMPLETE
    dep = fake_kube.get("Deployment", "web", "default")
    assert dep["spec"]["template"] == template_of(fake_kube, "nginx:1.25")
    patches = [r for r in fake_kube.api_requests() if r.verb == "patch" and "json-patch" in r.content_type]
    assert len(patches) == 1 and patches[0].body[0]["path"] == "/spec/template"


def test_rollback_errors_are_one_line(target):
    deploy(target, "web", "nginx:1.27")
    follow(target, "web")
    with pytest.raises(NotFound, match="no previous revision"):
        rollback(target, "web")
    with pytest.raises(NotFound, match=r"revision 7 not found \(revisions: 1\)"):
        rollback(target, "web", to_revision=7)
    assert rollback(target, "web", to_revision=1).skipped


def test_status_of_one_app_and_of_the_namespace(fake_kube, target):
    deploy(target, "web", "nginx:1.27", replicas=2)
    follow(target, "web")
    fake_kube.script(lambda i: i.startswith("crashy"), CRASH)
    deploy(target, "api", "crashy:1", replicas=1)
    follow(target, "api")
    web = app_status(target, "web")
    assert (web.desired, web.ready, web.available, web.revision, web.image) == (2, 2, 2, "1", "nginx:1.27")
    assert web.phases == "2 Running" and web.restarts == 0 and web.healthy and web.warnings == ()
    api = app_status(target, "api")
    assert not api.healthy and api.restarts >= 1 and api.pods[0].reason == "CrashLoopBackOff"
    assert any(w.reason == "BackOff" for w in api.warnings)
    summary = namespace_status(target)
    assert [a.name for a in summary.apps] == ["api", "web"] and summary.warnings


def test_status_counts_terminating_pods_as_terminating(fake_kube, target):
    deploy(target, "web", "nginx:1.27", replicas=2)
    assert follow(target, "web")[-1].state == COMPLETE
    fake_kube.paused = True  # hold the grace period open: the kubelet would stop it in a tick or two
    leaving = fake_kube.list("Pod", "default")[0]["metadata"]["name"]
    fake_kube.call(fake_kube.api.delete, BY_KIND["Pod"], "default", leaving, None)
    status = app_status(target, "web")
    assert status.phases == "1 Running, 1 Terminating"
    assert [(p.name, p.phase) for p in status.pods if p.name == leaving] == [(leaving, "Terminating")]
    fake_kube.paused = False
    assert follow(target, "web")[-1].state == COMPLETE


def test_a_deployment_the_controller_has_not_seen_yet(fake_kube, target):
    fake_kube.paused = True
    deploy(target, "web", "nginx:1.27", replicas=2)
    watcher = iter(RolloutWatcher(target, "web", timeout=20))
    first = next(watcher)
    assert (first.state, first.updated, first.ready, first.available) == ("running", 0, 0, 0)
    from cluster.status import app_status

    assert app_status(target, "web").available == 0
    fake_kube.paused = False
    assert list(watcher)[-1].state == COMPLETE
