"""keep.py, which the repository's Dockerfile runs after `pip install`: it keeps exactly the verified
distributions and app files, removes the rest, and fails the build when the app is not as verified."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8orize import keep
from tests.support.k8orize import fake_distribution

KEEP_LIST = "# verified\nFlask==3.1.3\nmarkupsafe==3.0.4\n"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A site-packages as `pip install --target` leaves it: two kept distributions, one to drop, bin/."""
    site = tmp_path / "site"
    fake_distribution(site, "Flask", "3.1.3", {"flask/__init__.py": "", "flask/app.py": ""}, ["flask"])
    fake_distribution(site, "MarkupSafe", "3.0.4", {"markupsafe/__init__.py": ""}, ["markupsafe"])
    fake_distribution(
        site, "tabulate", "0.9.0", {"tabulate/__init__.py": "", "tabulate/x.py": ""}, ["tabulate"]
    )
    (site / "bin").mkdir()
    (site / "bin" / "flask").write_text("#!/bin/sh\n")
    (site / "flask" / "__pycache__").mkdir()
    (site / "flask" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"")
    (tmp_path / "keep-list.txt").write_text(KEEP_LIST)
    return site


def test_only_the_verified_distributions_stay(site: Path, tmp_path: Path) -> None:
    assert keep.main(["--site", str(site), str(tmp_path / "keep-list.txt")]) == 0
    left = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert [p for p in left if not p.split("/")[0].endswith(".dist-info")] == [
        "flask/__init__.py",
        "flask/app.py",
        "markupsafe/__init__.py",
    ]
    assert not (site / "tabulate").exists() and not list(site.glob("tabulate*"))
    assert not (site / "bin").exists()  # the image calls python itself, never a console script


def test_another_version_fails_the_build(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "keep-list.txt").write_text("flask==3.0.0\nmarkupsafe==3.0.4\n")
    assert keep.main(["--site", str(site), str(tmp_path / "keep-list.txt")]) == 1
    assert "Flask 3.1.3 was installed, but 3.0.0 was verified" in capsys.readouterr().err


def test_a_verified_distribution_missing_fails_the_build(site: Path, tmp_path: Path) -> None:
    (tmp_path / "keep-list.txt").write_text(KEEP_LIST + "click==8.1.7\n")
    with pytest.raises(keep.NotAsVerified, match="verified but not installed: click"):
        keep.keep_distributions(site, keep.read_keep_list(tmp_path / "keep-list.txt"))


def test_only_the_verified_app_files_stay(tmp_path: Path) -> None:
    app = tmp_path / "app"
    for rel in ("app.py", "pkg/views.py", "README.md", "tests/test_app.py", ".env", "k8or/report.json"):
        (app / rel).parent.mkdir(parents=True, exist_ok=True)
        (app / rel).write_text("x\n")
    (app / "link").symlink_to("/etc/passwd")
    kept, removed = keep.keep_files(app, ["app.py", "pkg/views.py"])
    assert (kept, removed) == (2, 5)
    assert sorted(p.relative_to(app).as_posix() for p in app.rglob("*")) == ["app.py", "pkg", "pkg/views.py"]


def test_a_verified_app_file_gone_fails_the_build(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "app.py").write_text("x\n")
    with pytest.raises(keep.NotAsVerified, match="views.py no longer there"):
        keep.keep_files(tmp_path / "app", ["app.py", "views.py"])
