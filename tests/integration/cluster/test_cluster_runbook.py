"""The seed runbook, sections 3-11, against the fake API server through the real client."""

from __future__ import annotations

from cluster.delete import delete_app
from cluster.deploy import deploy
from cluster.migrate import migrate
from cluster.names import VolumeSpec
from cluster.preflight import preflight
from cluster.rollout import COMPLETE, RolloutWatcher
from cluster.volumes import StorageClassSpec, create_claim, create_storage_class

USR_FILES = {"bin/python3": 5_000_000, "lib/libc.so.6": 2_000_000, "share/doc/README": 1234}


def follow(target, app):
    return list(RolloutWatcher(target, app, timeout=20))


def test_the_whole_runbook(fake_kube, target):
    checks = {c.name: c for c in preflight(target)}
    assert all(c.ok for name, c in checks.items() if name != "Storage classes"), [
        c.line for c in checks.values()
    ]
    assert not checks["Storage classes"].ok and "none" in checks["Storage classes"].detail  # none yet

    create_storage_class(target, StorageClassSpec("gp3", parameters={"type": "gp3"}))
    assert [c.line for c in preflight(target)][-2:] == [
        "✓ Storage classes: gp3; none is the default, so `volume create` needs `--class` "
        "(or `storage create <name> --default`)",
        "✓ Permissions: may status, deploy, rollback, delete, volume create, migrate, storage create",
    ]

    data = create_claim(target, "data", "10Gi", "gp3", timeout=10)
    usr = create_claim(target, "usr-data", "5Gi", "gp3", timeout=10)
    assert data.bound and usr.bound and data.capacity == "10Gi" and data.volume.startswith("pvc-")

    fake_kube.seed_claim("default", "usr-data", USR_FILES)
    deploy(
        target,
        "web",
        "nginx:1.27",
        replicas=2,
        volumes=[VolumeSpec.parse("data:/mnt"), VolumeSpec.parse("usr-data:/usr")],
    )
    progress = follow(target, "web")
    assert progress[-1].state == COMPLETE, progress[-1].line
    assert (progress[-1].desired, progress[-1].updated, progress[-1].available) == (2, 2, 2)

    result = migrate(target, "web", claim="data", source="/usr", dest="/mnt")
    assert result.match, result.line
    assert (
        result.source_bytes == sum(USR_FILES.values()) + 5 * 4096
    )  # files, and /usr, bin, lib, share, share/doc
    assert fake_kube.claim_files("default", "data") == USR_FILES

    steps = list(delete_app(target, "web", timeout=20))
    assert [s.kind for s in steps] == ["Deployment", "Pods", "ReplicaSets", "Deployment"]
    assert len(steps[1].names) == 2 and len(steps[2].names) == 1
    assert fake_kube.list("Pod", "default") == [] or all(
        p["metadata"]["labels"].get("app.kubernetes.io/name") != "web"
        for p in fake_kube.list("Pod", "default")
    )

    deploy(target, "web", "nginx:1.27", replicas=1, volumes=[VolumeSpec.parse("usr-data:/usr")])
    assert follow(target, "web")[-1].state == COMPLETE
