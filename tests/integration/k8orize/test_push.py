"""Pushing to a registry that wants credentials (htpasswd, as a private registry or Docker Hub does): the
person's credentials reach buildah through a private auth file, never a command line, and the digest
returned is the one the registry serves. The image pushed is a one-file image, built here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from k8orize.image import BuiltImage, PushFailed, build_image, push, remove_image
from k8orize.registry_api import RegistryCredentials
from testing.registry import LocalRegistry, local_registry

USER, TOKEN = "ada", "dckr_pat_k8or-test-token"


@pytest.fixture(scope="module")
def private_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    with local_registry(tmp_path_factory.mktemp("private"), users={USER: TOKEN}) as running:
        yield running


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltImage]:
    context = tmp_path_factory.mktemp("tiny-image")
    (context / "hello.txt").write_text("hello from k8or\n")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    built = build_image(context, "localhost/k8or/push-test:latest", log=context / "build.log")
    yield built
    remove_image(built)


def test_a_push_with_the_person_s_credentials_returns_the_registry_s_digest(
    private_registry: LocalRegistry, base: BuiltImage, tmp_path: Path
) -> None:
    destination = f"{private_registry.host}/ada/base:k8or-test"
    digest = push(base, destination, RegistryCredentials(USER, TOKEN), log=tmp_path / "push.log")
    assert digest.startswith("sha256:")
    assert private_registry.manifest_digest("ada/base", "k8or-test") == digest
    assert private_registry.has_manifest("ada/base", digest)
    assert TOKEN not in (tmp_path / "push.log").read_text()  # the log shows the command, not the secret


@pytest.mark.parametrize(
    "credentials", [None, RegistryCredentials(USER, "wrong-token")], ids=["none", "wrong"]
)
def test_a_refused_push_says_where_and_keeps_the_secret(
    private_registry: LocalRegistry, base: BuiltImage, credentials: RegistryCredentials | None
) -> None:
    destination = f"{private_registry.host}/ada/refused:k8or-test"
    with pytest.raises(PushFailed, match=f"Pushing the image to {destination} failed") as refused:
        push(base, destination, credentials)
    assert "wrong-token" not in str(refused.value)
    assert private_registry.manifest_digest("ada/refused", "k8or-test") is None
