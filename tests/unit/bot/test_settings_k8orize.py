"""K8OR_K8ORIZE_BASE_IMAGE: the base chat's k8orize builds are FROM, an image reference or nothing."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings

DIGEST = "sha256:" + "0" * 64  # a well-formed digest: only the reference's grammar is checked here


@pytest.mark.parametrize(
    "value",
    ["python:3.11.7-slim-bookworm", f"python:3.11.7-slim-bookworm@{DIGEST}", "127.0.0.1:5000/k8or/base:1"],
)
def test_an_image_reference_is_taken(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("K8OR_K8ORIZE_BASE_IMAGE", value)
    assert load_settings(env_file=None).k8orize_base_image == value


def test_unset_means_the_dockerfile_s_own_default() -> None:
    assert load_settings(env_file=None).k8orize_base_image == ""


@pytest.mark.parametrize(
    "value", ["--tls-verify=false", "docker-archive:/etc/shadow", "python 3", "Python:3"]
)
def test_anything_else_stops_the_start_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("K8OR_K8ORIZE_BASE_IMAGE", value)
    with pytest.raises(SettingsError, match="K8OR_K8ORIZE_BASE_IMAGE: .*REPO\\[:TAG\\]"):
        load_settings(env_file=None)
