"""How a build's RUN steps are told to run (k8orize/build_isolation.py), and which bases are refused
before buildah sees them (k8orize/image.py). The builds themselves: tests/integration/k8orize/
test_build_isolation.py."""

from __future__ import annotations

import pytest

from k8orize import build_isolation
from k8orize.build_isolation import BUILD_IDS, BuildLimits, buildah_environment, run_step_options
from k8orize.image import BaseUnavailable, ensure_base, is_reference


def _option(options: list[str], name: str) -> list[str]:
    return [options[i + 1] for i, value in enumerate(options) if value == name]


def test_run_steps_get_runc_a_user_namespace_and_limits() -> None:
    options = run_step_options(network=False, limits=BuildLimits(memory_bytes=2**30, cpus=0.5, processes=64))
    assert _option(options, "--isolation") == ["oci"]
    mapping = f"0:{BUILD_IDS.host}:{BUILD_IDS.size}"
    assert _option(options, "--userns-uid-map") == [mapping] == _option(options, "--userns-gid-map")
    assert BUILD_IDS.host > 2**16 and BUILD_IDS.host + BUILD_IDS.size < 2**31
    assert _option(options, "--memory") == [str(2**30)] == _option(options, "--memory-swap")
    assert _option(options, "--cpu-quota") == ["50000"] and _option(options, "--cpu-period") == ["100000"]
    assert "nproc=64:64" in _option(options, "--ulimit")
    assert _option(options, "--network") == ["none"]
    assert "--network" not in run_step_options(network=True)  # a namespace of its own, never the host's


def test_buildah_sees_none_of_the_bot_s_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K8OR_VAULT_KEY", "vault-key")
    monkeypatch.setenv("MicrosoftAppPassword", "app-password")
    monkeypatch.setenv("CONTAINERS_STORAGE_CONF", "/etc/containers/storage.conf")
    environment = buildah_environment()
    assert "K8OR_VAULT_KEY" not in environment and "MicrosoftAppPassword" not in environment
    assert environment["CONTAINERS_STORAGE_CONF"] == "/etc/containers/storage.conf"
    assert "PATH" in environment


@pytest.mark.parametrize(
    "base",
    ["--tls-verify=false", "docker-archive:/etc/shadow", "oci:/tmp/image", "python 3", "Python:3.11"],
)
def test_a_base_that_is_not_an_image_reference_is_refused_before_buildah(
    monkeypatch: pytest.MonkeyPatch, base: str
) -> None:
    monkeypatch.setattr(build_isolation.shutil, "which", lambda _name: None)  # buildah is never reached
    assert not is_reference(base)
    with pytest.raises(BaseUnavailable, match="is not an image reference"):
        ensure_base(base)


@pytest.mark.parametrize(
    "base",
    [
        "python:3.11.7-slim-bookworm",
        "localhost/k8or/test-base:3.11.7-b6ade709785a",
        "127.0.0.1:5000/k8or/shop@sha256:" + "0" * 64,  # a well-formed digest: only the grammar is checked
        "[::1]:5000/k8or/shop:1",
    ],
)
def test_image_references_are_taken(base: str) -> None:
    assert is_reference(base)
