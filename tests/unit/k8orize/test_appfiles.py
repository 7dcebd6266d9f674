"""The app's file layer: what it serves, what it refuses and notes, and copies that never follow links."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from k8orize.appfiles import AppFileRefused, AppFiles

OUTSIDE = "a link that leaves the app folder (not followed)"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "host").mkdir()
    (tmp_path / "host" / "secret").write_text("s3cret\n")
    app = tmp_path / "app"
    (app / "pkg").mkdir(parents=True)
    (app / "app.py").write_text("print(1)\n")
    (app / "pkg" / "__init__.py").write_text("")
    (app / "main.py").symlink_to("app.py")  # inside: served as its target
    (app / "pkg_alias").symlink_to("pkg")  # a folder link inside: not walked twice
    (app / "key.py").symlink_to(tmp_path / "host" / "secret")
    (app / "hostdir").symlink_to(tmp_path / "host")
    (app / "up").symlink_to("..")
    os.mkfifo(app / "fifo")
    return app


def test_walk_serves_files_inside_and_notes_the_rest(app: Path) -> None:
    files = AppFiles(app)
    assert [(f.rel, f.size) for f in files.walk()] == [("app.py", 9), ("main.py", 9), ("pkg/__init__.py", 0)]
    assert files.unreadable == {
        "fifo": "not a regular file (a device, fifo, socket or broken link)",
        "hostdir": OUTSIDE,
        "key.py": OUTSIDE,
        "up": OUTSIDE,
    }
    assert files.packages() == ["pkg"] and files.top_level(".py") == ["app.py", "main.py"]


@pytest.mark.parametrize(
    "rel", ["key.py", "hostdir/secret", "up/host/secret", "../host/secret", "/etc/passwd"]
)
def test_reads_never_leave_the_app(app: Path, rel: str) -> None:
    files = AppFiles(app)
    assert files.is_file(rel) is False
    with pytest.raises(AppFileRefused):
        files.read_bytes(rel)
    assert files.read_text(rel) is None
    assert files.unreadable[rel] == OUTSIDE


def test_reads_are_capped(app: Path) -> None:
    (app / "big.py").write_text("x" * 2000)
    files = AppFiles(app, max_parsed=1000)
    assert files.read_text("big.py") is None
    assert files.unreadable["big.py"] == "larger than 0 MB, so it was not parsed"


def test_copies_take_bytes_and_never_write_through_a_link(app: Path, tmp_path: Path) -> None:
    files, dest = AppFiles(app), tmp_path / "image"
    files.copy("main.py", dest / "main.py")
    assert not (dest / "main.py").is_symlink() and (dest / "main.py").read_text() == "print(1)\n"
    (dest / "app.py").symlink_to(tmp_path / "host" / "secret")
    with pytest.raises(FileExistsError):
        files.copy("app.py", dest / "app.py")
    assert (tmp_path / "host" / "secret").read_text() == "s3cret\n"
    with pytest.raises(AppFileRefused):
        files.copy("key.py", dest / "key.py")
    assert not (dest / "key.py").exists()
