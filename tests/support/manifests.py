"""k8or's own manifests as `kubectl kustomize` builds them: the base and every overlay."""

from __future__ import annotations

import functools
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from tests.support.tools import ROOT

MANIFESTS = ROOT / "manifests"
# `kubectl apply -k manifests/` is the base; each directory under overlays/ is one variant.
VARIANTS = ["base", *sorted(p.name for p in (MANIFESTS / "overlays").iterdir() if p.is_dir())]


def variant_dir(variant: str):
    return MANIFESTS if variant == "base" else MANIFESTS / "overlays" / variant


@functools.cache
def built_text(variant: str) -> str:
    """The YAML `kubectl kustomize` renders for a variant (skips, saying why, without kubectl)."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: the kustomize builds of manifests/ need it")
    result = subprocess.run(
        ["kubectl", "kustomize", str(variant_dir(variant))], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def built(variant: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(built_text(variant)) if d]


def one(documents: list[dict[str, Any]], kind: str, name: str = "k8or") -> dict[str, Any]:
    (found,) = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def pod_spec(documents: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = one(documents, "Deployment")["spec"]["template"]["spec"]
    return spec


def container(documents: list[dict[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = pod_spec(documents)["containers"][0]
    return found


def env(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """The container's env by name: a value, or the valueFrom mapping."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(documents).get("env", [])}


def granted_rules(documents: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(verb, resource) pairs the ClusterRoles bound to k8or's ServiceAccount grant."""
    bound = {
        d["roleRef"]["name"]
        for d in documents
        if d["kind"] == "ClusterRoleBinding"
        and any(s["kind"] == "ServiceAccount" and s["name"] == "k8or" for s in d["subjects"])
    }
    return {
        (verb, resource)
        for d in documents
        if d["kind"] == "ClusterRole" and d["metadata"]["name"] in bound
        for rule in d["rules"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
