"""The Dockerfile: multi-stage, pinned, dedicated user, HEALTHCHECK, no ADD, clean under hadolint."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

import pytest

from k8orize import hardening
from k8orize.dockerfile import DockerfileSpec, RepositoryInstall, render, render_repository
from tests.support.k8orize import tool

UID = hardening.app_uid("web")


def _spec(traced: bool) -> DockerfileSpec:
    return DockerfileSpec(
        uid=UID,
        port=8501,
        cmd=["python", "-m", "streamlit", "run", "app.py"],
        health_url="http://127.0.0.1:8501/_stcore/health",
        env={"LOG_FORMAT": "json"},
        imports=("streamlit",),
        traced=traced,
    )


@pytest.mark.parametrize(
    "text",
    [
        render(_spec(True)),
        render(_spec(False)),
        render_repository(_spec(True), RepositoryInstall()),  # what a pull request commits
        render_repository(_spec(False), RepositoryInstall(keep_list=False)),
        render_repository(
            _spec(True), RepositoryInstall(requirements=None)
        ),  # a project that installs itself
    ],
    ids=["traced", "untraced", "repository", "repository-untraced", "repository-project"],
)
def test_hadolint_clean(tmp_path: Path, text: str) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    proc = subprocess.run(
        [tool("hadolint"), "--no-color", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


@pytest.mark.parametrize("traced", [True, False])
def test_shape(traced: bool) -> None:
    text = render(_spec(traced))
    lines = text.splitlines()
    froms = [line for line in lines if line.startswith("FROM ")]
    assert froms == ["FROM ${BASE_IMAGE} AS build", "FROM ${BASE_IMAGE}"]
    # The base is a build argument declared before the first FROM (else FROM cannot use it); its
    # default is the interpreter the app was traced and verified with.
    [base] = [line for line in lines if line.startswith("ARG BASE_IMAGE=")]
    assert lines.index(base) < lines.index(froms[0])
    assert base == f"ARG BASE_IMAGE=python:{platform.python_version()}-slim-bookworm"
    assert not any(line.startswith("ADD ") for line in lines)
    assert f"USER {UID}:{UID}" in lines
    assert f"--uid {UID} --gid {UID}" in text
    assert any(line.startswith("HEALTHCHECK ") and "/_stcore/health" in line for line in lines)
    assert "COPY image/ /opt/k8or/" in lines
    assert not any(
        line.startswith("COPY") and "image/" not in line and "--from=build" not in line for line in lines
    )
    assert ".env" not in text and "secret" not in text.lower()
