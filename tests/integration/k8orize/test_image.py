"""A real image and a real digest: the Streamlit example k8orized with the image built by buildah FROM the
locally made base, pushed to a local registry, and the registry's digest pinned in the manifests.

One k8orization serves every test of the module (it installs, traces and builds: the expensive part).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from k8orize import hardening
from k8orize.engine import K8orizeResult, k8orize
from k8orize.image import BuiltImage, ImageStore, image_rootfs, remove_image
from k8orize.request import K8orizeRequest
from testing.registry import LocalRegistry
from tests.support.k8orize import EXAMPLE, PROBES, RUN

NAME = "streamlit-example"
REPOSITORY = "k8or/streamlit-example"


@pytest.fixture(scope="module")
def shipped(
    tmp_path_factory: pytest.TempPathFactory, base_image: str, registry: LocalRegistry
) -> Iterator[K8orizeResult]:
    out = tmp_path_factory.mktemp("image") / "out"
    request = K8orizeRequest(
        app_dir=EXAMPLE,
        out=out,
        name=NAME,
        run=RUN,
        probes=PROBES,
        base_image=base_image,
        push=f"{registry.host}/{REPOSITORY}",
    )
    result = k8orize(request)
    yield result
    image = result.report["image"]
    if image["image_id"]:
        remove_image(BuiltImage(image["reference"] or "", image["image_id"], 0))


def _deployment_image(result: K8orizeResult) -> str:
    deployment = yaml.safe_load((result.out / "manifests" / "30-deployment.yaml").read_text())
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return str(container["image"])


def test_the_image_is_built_and_pushed(shipped: K8orizeResult, registry: LocalRegistry) -> None:
    steps = {s["step"]: s for s in shipped.report["steps"]}
    assert steps["build image"]["status"] == "ok", steps["build image"]
    assert steps["push"]["status"] == "ok", steps["push"]
    pushed = shipped.report["image"]["pushed"]
    assert pushed is not None
    tag = pushed["destination"].rsplit(":", 1)[1]
    # What a kubelet pulling the tag would get is what the manifests pin.
    assert registry.manifest_digest(REPOSITORY, tag) == pushed["digest"]
    assert registry.has_manifest(REPOSITORY, pushed["digest"])


def test_every_manifest_pins_the_digest_the_registry_serves(
    shipped: K8orizeResult, registry: LocalRegistry
) -> None:
    pinned = _deployment_image(shipped)
    repository, digest = pinned.split("@", 1)
    assert repository == f"{registry.host}/{REPOSITORY}" and digest.startswith("sha256:")
    assert registry.has_manifest(REPOSITORY, digest)
    images = {
        c["image"]
        for path in (shipped.out / "manifests").glob("*.yaml")
        for obj in yaml.safe_load_all(path.read_text())
        if obj and obj.get("kind") in ("Deployment", "StatefulSet", "Job", "CronJob")
        for c in _containers(obj)
    }
    assert images == {pinned}
    assert not any("digest" in item for item in shipped.report["not_verified"])


def _containers(obj: dict) -> list[dict]:  # type: ignore[type-arg]
    spec = obj["spec"]
    template = spec.get("jobTemplate", {}).get("spec", spec)["template"]["spec"]
    return [*template.get("initContainers", []), *template["containers"]]


def test_checkov_passes_without_a_hand_typed_digest(shipped: K8orizeResult) -> None:
    checks = shipped.report["checks"]
    assert checks["checkov"]["ran"] and checks["checkov"]["passed"], checks["checkov"]
    assert "CKV_K8S_43" not in checks["checkov"]["detail"]
    assert checks["hadolint"]["ran"] and checks["hadolint"]["passed"], checks["hadolint"]


def test_the_report_gives_both_whole_image_sizes(shipped: K8orizeResult, base_image: str) -> None:
    image = shipped.report["image"]
    assert image["base_image"] == base_image and image["base_digest"]
    naive = image["naive"]
    assert naive["built"], naive["why_not"]
    assert image["size_bytes"] and naive["size_bytes"]
    # The naive image installs streamlit whole (pyarrow, pandas, numpy...); the trimmed tree is less.
    assert image["size_bytes"] < naive["size_bytes"]
    assert image["smaller_than_naive_percent"] == round(
        100 * (1 - image["size_bytes"] / naive["size_bytes"]), 1
    )
    assert "pip install --no-cache-dir -r requirements.txt" in (naive["dockerfile"] or "")
    summary = shipped.summary()
    mb = f"{image['size_bytes'] / 1e6:.1f} MB"
    assert f"Whole image: {mb} vs {naive['size_bytes'] / 1e6:.1f} MB naive" in summary
    assert (shipped.out / "build.log").is_file() and (shipped.out / "build-naive.log").is_file()


def test_the_image_runs_as_the_dockerfile_says(shipped: K8orizeResult) -> None:
    """Docker's format keeps HEALTHCHECK (OCI's drops it); USER, WORKDIR and CMD are the Dockerfile's."""
    image = shipped.report["image"]
    info = json.loads(
        subprocess.run(
            ["buildah", *ImageStore().args(), "inspect", "--type", "image", image["image_id"] or ""],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    config = info["Docker"]["config"]
    uid = hardening.app_uid(NAME)
    assert config["User"] == f"{uid}:{uid}" and config["WorkingDir"] == "/opt/k8or/app"
    assert config["Cmd"][:3] == ["python", "-m", "streamlit"]
    assert config["Healthcheck"]["Test"][0] == "CMD"


def test_the_rootfs_is_lent_and_taken_back(shipped: K8orizeResult) -> None:
    image = shipped.report["image"]
    built = BuiltImage(image["reference"] or "", image["image_id"] or "", image["size_bytes"] or 0)
    with image_rootfs(built) as rootfs:
        assert (rootfs / "opt/k8or/app/app.py").is_file()
        assert (rootfs / "opt/k8or/site-packages/streamlit").is_dir()
        assert (rootfs / "usr/local/bin/python").exists()
        assert f":{hardening.app_uid(NAME)}:" in (rootfs / "etc/passwd").read_text()
        kept: Path = rootfs
    assert not kept.exists()
