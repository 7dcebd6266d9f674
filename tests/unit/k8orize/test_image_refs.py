"""Image references as the engine reads them: where a push goes, what the manifests pin, and --push checked
before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8orize.cli import push_credentials
from k8orize.errors import BadRequest
from k8orize.image import pinned, registry_host, repository_of
from k8orize.registry_api import RegistryCredentials, split_reference
from k8orize.request import K8orizeRequest


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("127.0.0.1:5000/k8or/shop:k8or-1a2b", ("127.0.0.1:5000", "k8or/shop", "k8or-1a2b")),
        ("localhost/k8or/test-base:3.11.7-abc", ("localhost", "k8or/test-base", "3.11.7-abc")),
        ("docker.io/ada/shop", ("docker.io", "ada/shop", "latest")),
        ("ada/shop:1", ("docker.io", "ada/shop", "1")),
        ("python:3.11.7-slim-bookworm", ("docker.io", "library/python", "3.11.7-slim-bookworm")),
        ("ghcr.io/octo/shop@sha256:" + "a" * 64, ("ghcr.io", "octo/shop", "sha256:" + "a" * 64)),
    ],
)
def test_references_split_into_host_repository_and_tag(
    reference: str, expected: tuple[str, str, str]
) -> None:
    assert split_reference(reference) == expected
    assert registry_host(reference) == expected[0]


def test_the_manifests_pin_the_repository_with_the_digest_not_the_tag() -> None:
    digest = "sha256:" + "0f" * 32
    assert repository_of("127.0.0.1:5000/k8or/shop:k8or-1") == "127.0.0.1:5000/k8or/shop"
    assert pinned("127.0.0.1:5000/k8or/shop:k8or-1", digest) == f"127.0.0.1:5000/k8or/shop@{digest}"
    assert pinned("docker.io/ada/shop", digest) == f"docker.io/ada/shop@{digest}"


@pytest.mark.parametrize(
    "push",
    ["shop", "ada/shop", "--index-url=https://evil/x", "127.0.0.1:5000/Shop", "registry.example.com/", ""],
)
def test_a_malformed_push_destination_is_refused_before_anything_runs(tmp_path: Path, push: str) -> None:
    request = K8orizeRequest(app_dir=tmp_path, out=tmp_path.parent / "out", push=push)
    with pytest.raises(BadRequest, match="--push expects REGISTRY/REPO"):
        request.validate()


def test_push_needs_the_build(tmp_path: Path) -> None:
    request = K8orizeRequest(
        app_dir=tmp_path, out=tmp_path.parent / "out", push="127.0.0.1:5000/k8or/shop", build=False
    )
    with pytest.raises(BadRequest, match="--no-build"):
        request.validate()


def test_push_credentials_never_show_in_the_request() -> None:
    credentials = push_credentials({"K8OR_PUSH_USERNAME": "ada", "K8OR_PUSH_TOKEN": "dckr_pat_secret"})
    assert credentials == RegistryCredentials("ada", "dckr_pat_secret")
    request = K8orizeRequest(app_dir=Path("."), out=Path("out"), push_credentials=credentials)
    assert "dckr_pat_secret" not in repr(request) and "dckr_pat_secret" not in repr(credentials)
    assert push_credentials({"K8OR_PUSH_USERNAME": "ada"}) is None
