"""Installing the app: uv or pip into a venv without pip, logged, no bytecode in site-packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8orize.distributions import installed
from k8orize.errors import InstallFailed
from k8orize.install import create_venv, find_uv

pytestmark = pytest.mark.slow  # talks to the package index


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_install_into_an_isolated_venv(tmp_path: Path, installer: str) -> None:
    if installer == "uv" and find_uv() is None:
        pytest.fail("uv is not installed: run the project's setup (it installs uv into .venv)")
    log = tmp_path / "install.log"
    venv = create_venv(tmp_path / "venv", ["six==1.16.0"], tmp_path, log, installer)
    dists = installed(venv.site_packages)
    assert set(dists) == {"six"}  # no pip, no setuptools: the installer ran from outside
    assert not list(venv.site_packages.rglob("*.pyc"))
    text = log.read_text()
    assert f"# installer: {installer}" in text and "six==1.16.0" in text
    assert venv.installer == installer


def test_a_failing_install_says_why(tmp_path: Path) -> None:
    malformed = ["six>>1"]  # pip rejects it without asking the index
    with pytest.raises(InstallFailed, match="Installing the app's dependencies failed"):
        create_venv(tmp_path / "venv", malformed, tmp_path, tmp_path / "log", "pip")
