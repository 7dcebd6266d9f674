"""A relative APP_DIR or OUT names the same folders wherever the engine works from (the sandbox and the
builds run in folders of their own: `k8orize examples/flask-app --run …` once failed there)."""

from __future__ import annotations

import os
from pathlib import Path

from k8orize.request import K8orizeRequest


def test_relative_folders_become_absolute_from_the_callers_directory(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        request = K8orizeRequest(app_dir=Path("app"), out=Path("out"))
    finally:
        os.chdir(here)
    assert request.app_dir == tmp_path / "app" and request.out == tmp_path / "out"
    request.validate()  # still the caller's folder once the working directory moved on
