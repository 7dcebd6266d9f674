"""What ships, read back from OUT: the Dockerfile's final stage under the Deployment, as a kubelet runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from k8orize import dockerfile, hardening, manifests
from k8orize.shipped import ShippedUnreadable, read_dockerfile, read_pod

NAME = "shop"
UID = hardening.app_uid(NAME)


def _out(tmp_path: Path, env: dict[str, str] | None = None) -> Path:
    """OUT as the engine renders it: its Dockerfile and its manifests."""
    spec = dockerfile.DockerfileSpec(
        uid=UID, port=8080, cmd=["python", "app.py", "8080"], health_url=None, env={"LOG_FORMAT": "json"}
    )
    (tmp_path / "Dockerfile").write_text(dockerfile.render(spec))
    rendered = manifests.ManifestSpec(
        name=NAME,
        image="registry.example/shop@sha256:" + "ab" * 32,
        uid=UID,
        port=8080,
        health_path="/health",
        metrics_path="/metrics",
        localhost_profile=f"operator/{NAME}/{NAME}.json",
        env=env or {},
    )
    folder = tmp_path / "manifests"
    folder.mkdir()
    for filename, objects in manifests.render_all(rendered).items():
        (folder / filename).write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return tmp_path


def test_the_final_stage_is_the_image_config() -> None:
    config = read_dockerfile(
        "FROM base AS build\nENV BUILD_ONLY=1\nUSER 0\n\nFROM base\n# the image\n"
        'ENV A="one two" \\\n    B=2\nENV LEGACY value with spaces\nWORKDIR /opt\nWORKDIR app\n'
        'USER 1000:1000\nENTRYPOINT ["tini", "--"]\nCMD python -m app\n'
    )
    assert dict(config.env) == {"A": "one two", "B": "2", "LEGACY": "value with spaces"}
    assert config.user == "1000:1000" and config.workdir == "/opt/app"
    assert config.entrypoint == ("tini", "--")
    assert config.cmd == ("/bin/sh", "-c", "python -m app")


def test_the_pod_runs_the_image_under_the_deployment(tmp_path: Path) -> None:
    pod = read_pod(_out(tmp_path, {"GREETING": "hi"}), NAME)
    c = pod.container
    assert c.args == ("python", "app.py", "8080") and c.cwd == "/opt/k8or/app"
    assert (c.uid, c.gid, c.additional_gids) == (UID, UID, (UID,))  # runAsUser/runAsGroup, fsGroup
    assert c.read_only_root and c.no_new_privileges and c.capabilities == ()
    assert c.scratch == ("/tmp", "/home/app")
    env = dict(item.split("=", 1) for item in c.env)
    assert env["PYTHONPATH"] == "/opt/k8or/site-packages"  # the image's ENV
    assert env["GREETING"] == "hi" and env["LOG_FORMAT"] == "json"  # the container's env over it
    assert env["PATH"].startswith("/usr/local/sbin") and env["HOSTNAME"] == c.hostname
    assert c.resources.memory == 2**30 and c.resources.cpu_millis == 1000
    assert pod.port == 8080 and pod.grace_seconds == 30.0 and pod.namespace == NAME
    assert pod.seccomp == ("Localhost", f"operator/{NAME}/{NAME}.json")
    kinds = {(p.kind, p.action, p.path, p.port) for p in pod.probes}
    assert ("startup", "http", "/health", 8080) in kinds and ("metrics", "http", "/metrics", 8080) in kinds
    startup = next(p for p in pod.probes if p.kind == "startup")
    assert startup.budget_seconds == 60.0  # periodSeconds 2 x failureThreshold 30


def test_a_value_from_a_secret_comes_from_the_manifests_or_the_caller(tmp_path: Path) -> None:
    out = _out(tmp_path)
    path = out / "manifests" / "30-deployment.yaml"
    deployment = yaml.safe_load(path.read_text())
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["env"].append(
        {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "shop-env", "key": "t"}}}
    )
    path.write_text(yaml.safe_dump(deployment))
    with pytest.raises(ShippedUnreadable, match="API_TOKEN comes from a Secret"):
        read_pod(out, NAME)
    assert "API_TOKEN=s3cret" in read_pod(out, NAME, {"API_TOKEN": "s3cret"}).container.env
    secret = {"kind": "Secret", "metadata": {"name": "shop-env"}, "data": {"t": "ZnJvbS1tYW5pZmVzdA=="}}
    (out / "manifests" / "29-secret.yaml").write_text(yaml.safe_dump(secret))
    assert "API_TOKEN=from-manifest" in read_pod(out, NAME).container.env


def test_what_the_kubelet_would_refuse_is_refused(tmp_path: Path) -> None:
    out = _out(tmp_path)
    (out / "Dockerfile").write_text("FROM base\nUSER app\nCMD python app.py\n")
    path = out / "manifests" / "30-deployment.yaml"
    deployment = yaml.safe_load(path.read_text())
    for context in (
        deployment["spec"]["template"]["spec"],
        deployment["spec"]["template"]["spec"]["containers"][0],
    ):
        context["securityContext"].pop("runAsUser")
    path.write_text(yaml.safe_dump(deployment))
    with pytest.raises(ShippedUnreadable, match="USER 'app' is not numeric"):
        read_pod(out, NAME)
    (out / "Dockerfile").write_text("FROM base\nUSER 0\nCMD python app.py\n")
    with pytest.raises(ShippedUnreadable, match="runAsNonRoot"):
        read_pod(out, NAME)
    with pytest.raises(ShippedUnreadable, match="no Deployment named 'other'"):
        read_pod(out, "other")
