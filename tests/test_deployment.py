"""k8or's own deployment: the Dockerfile and manifests/ are clean under the linters people use."""

from __future__ import annotations

import subprocess

import kubernetes_validate
import pytest
import yaml

from tests.support.tools import ROOT, tool

MANIFESTS = ROOT / "manifests"
K8S_VERSION = "1.33.0"


def test_dockerfile_is_clean_under_hadolint():
    result = subprocess.run([tool("hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_dedicated_user_with_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    assert "USER 10001:10001" in text
    assert "HEALTHCHECK" in text
    assert "\nADD " not in text
    assert "slim" in text and ":latest" not in text


def test_manifests_have_zero_failed_checkov_checks():
    result = subprocess.run(
        [
            tool("checkov"),
            "-d",
            str(MANIFESTS),
            "--framework",
            "kubernetes",
            "--compact",
            "--skip-download",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    import json

    report = json.loads(result.stdout)
    summary = report["summary"]
    assert summary["failed"] == 0, [c["check_id"] for c in report["results"]["failed_checks"]]
    assert summary["passed"] > 50
    skipped = {c["check_id"] for c in report["results"]["skipped_checks"]}
    assert skipped <= {"CKV_K8S_43"}


def _documents():
    docs = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


@pytest.mark.parametrize(("name", "document"), _documents(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_manifest_is_valid_in_strict_mode(name, document):
    kubernetes_validate.validate(document, K8S_VERSION, strict=True)


def test_kustomize_builds_the_whole_set():
    result = subprocess.run(
        ["kubectl", "kustomize", str(MANIFESTS)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    kinds = {d["kind"] for d in yaml.safe_load_all(result.stdout)}
    assert kinds == {
        "Namespace",
        "ServiceAccount",
        "Deployment",
        "Service",
        "NetworkPolicy",
        "PodDisruptionBudget",
    }


def test_deployment_is_restricted_with_probes_and_resources():
    deployment = next(d for n, d in _documents() if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert deployment["spec"]["replicas"] == 2
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert {"livenessProbe", "readinessProbe", "resources"} <= set(container)
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_dockerfile_copies_every_package_the_distribution_declares():
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = {pattern.rstrip("*") for pattern in declared["include"]}
    text = (ROOT / "Dockerfile").read_text()
    assert all(f"COPY {p} ./{p}" in text for p in packages), packages
