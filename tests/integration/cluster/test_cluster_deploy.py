"""Deploy: the hardened manifest, digest pinning, and server-side apply that drops what is no longer asked."""

from __future__ import annotations

from cluster.deploy import deploy
from cluster.names import VolumeSpec
from cluster.render import render_deployment
from k8orize import hardening


def test_rendered_deployment_is_hardened_by_k8orize():
    manifest = render_deployment(
        "web", "nginx:1.27", 2, [VolumeSpec.parse("data:/mnt"), VolumeSpec.parse("data:/usr")]
    )
    pod = manifest["spec"]["template"]["spec"]
    uid = hardening.app_uid("web")
    assert pod["securityContext"] == hardening.pod_security_context(uid)
    assert pod["containers"][0]["securityContext"] == hardening.container_security_context(uid)
    assert pod["automountServiceAccountToken"] is False
    claims = [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
    assert claims == [{"name": "vol-data", "persistentVolumeClaim": {"claimName": "data"}}]
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    assert mounts == {"/mnt": "vol-data", "/usr": "vol-data", "/tmp": "tmp", "/home/app": "home"}


def test_the_tag_is_pinned_to_the_digest_the_registry_names(fake_kube, target):
    digest = "sha256:" + "ab" * 32
    applied = deploy(
        target, "web", "nginx:1.27", resolve_digest=lambda image: digest if image == "nginx:1.27" else None
    )
    assert applied.image == f"nginx:1.27@{digest}"
    assert (
        fake_kube.get("Deployment", "web", "default")["spec"]["template"]["spec"]["containers"][0]["image"]
        == applied.image
    )


def test_apply_uses_the_k8or_field_manager_and_drops_volumes_no_longer_asked_for(fake_kube, target):
    deploy(
        target,
        "web",
        "nginx:1.27",
        volumes=[VolumeSpec.parse("data:/mnt"), VolumeSpec.parse("usr-data:/usr")],
    )
    deploy(target, "web", "nginx:1.27", volumes=[VolumeSpec.parse("usr-data:/usr")])
    dep = fake_kube.get("Deployment", "web", "default")
    pod = dep["spec"]["template"]["spec"]
    assert [v["name"] for v in pod["volumes"]] == ["vol-usr-data", "tmp", "home"]
    assert [m["mountPath"] for m in pod["containers"][0]["volumeMounts"]] == ["/usr", "/tmp", "/home/app"]
    managers = {(m["manager"], m["operation"]) for m in dep["metadata"]["managedFields"]}
    assert ("k8or", "Apply") in managers
    applies = [r for r in fake_kube.api_requests() if r.verb == "patch"]
    assert all(
        r.content_type == "application/apply-patch+yaml"
        and r.query["fieldManager"] == "k8or"
        and r.query["force"] == "true"
        for r in applies
    )
