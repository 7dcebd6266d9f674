"""`delete` of a stuck app, its main use: foreground deletion finishes though no pod ever ran."""

from __future__ import annotations

import time

from cluster.delete import delete_app
from cluster.deploy import apply_deployment
from cluster.render import render_deployment


def test_deleting_an_app_whose_pods_were_never_scheduled_finishes(fake_kube, target):
    manifest = render_deployment("web", "nginx:1.27", replicas=2, progress_deadline=120)
    manifest["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "32"
    apply_deployment(target, manifest)
    fake_kube.call(lambda: None)

    def pending():
        pods = fake_kube.list("Pod", "default")
        return len(pods) == 2 and all(not p["spec"].get("nodeName") for p in pods)

    deadline = time.monotonic() + 10
    while not pending():
        assert time.monotonic() < deadline, "the pods never appeared"
        time.sleep(0.02)
    steps = list(delete_app(target, "web", timeout=10))
    assert [(s.kind, s.state) for s in steps] == [
        ("Deployment", "started"),
        ("Pods", "gone"),
        ("ReplicaSets", "gone"),
        ("Deployment", "gone"),
    ]
    assert len(steps[1].names) == 2
    assert fake_kube.list("Pod", "default") == [] and fake_kube.get("Deployment", "web", "default") is None
