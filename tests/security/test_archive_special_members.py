"""Attack: archive members that are not plain files, folders or inside links.

A hard link (to a file outside, or one the archive names twice), a device node, a fifo, an oversized
pax header and files past the size limits are each refused while the archive is read, the partial
tree is removed, and through chat nothing is k8orized, stored or sent.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from k8orize.archive import ArchiveLimits, ArchiveRefused, unpack_tar_gz
from tests.e2e import test_k8orize_chat as k8orize_chat
from tests.e2e.test_k8orize_chat import Chat
from tests.security.tarballs import Member, member, tar_gz

chat = k8orize_chat.chat


def _refused(tmp_path: Path, *members: Member, limits: ArchiveLimits | None = None) -> str:
    into = tmp_path / "unpacked"
    with pytest.raises(ArchiveRefused) as refused:
        unpack_tar_gz(io.BytesIO(tar_gz(member(""), member("app.py"), *members)), into, limits)
    assert list(tmp_path.iterdir()) == []  # nothing half-unpacked is left
    return refused.value.what


def _named(name: str) -> Member:
    """A regular member with exactly this name (not under the top folder)."""
    info, data = member("placeholder")
    info.name = name
    return info, data


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        (member("passwd", tarfile.LNKTYPE, "/etc/passwd"), "a hard link (`octo-evil-0a1b2c3/passwd`)"),
        (member("again.py", tarfile.LNKTYPE, "octo-evil-0a1b2c3/app.py"), "a hard link"),
        (member("null", tarfile.CHRTYPE), "a special file (`octo-evil-0a1b2c3/null`)"),
        (member("disk", tarfile.BLKTYPE), "a special file"),
        (member("pipe", tarfile.FIFOTYPE), "a special file"),
        (_named("/etc/cron.d/evil"), "a path outside its folder"),
        (member("../../evil"), "a path outside its folder"),
        (member("app.py"), "the same path twice"),
    ],
)
def test_special_members_refuse_the_archive(tmp_path: Path, bad: Member, what: str) -> None:
    assert what in _refused(tmp_path, bad)


def test_an_oversized_header_is_refused_before_it_is_read(tmp_path: Path) -> None:
    info, data = member("notes.txt")
    info.pax_headers = {"comment": "x" * (3 * 2**20)}  # a few KB compressed, megabytes to parse
    assert _refused(tmp_path, (info, data)) == "an oversized or malformed header"


def test_size_limits_are_enforced_while_reading(tmp_path: Path) -> None:
    small = ArchiveLimits(members=10, total_bytes=3000, file_bytes=2000)
    assert "a file larger than" in _refused(tmp_path, member("big.bin", data=b"\0" * 2001), limits=small)
    two = (member("one.bin", data=b"\0" * 1500), member("two.bin", data=b"\0" * 1600))
    assert _refused(tmp_path, *two, limits=small).startswith("more than 0 MB of files")
    many = [member(f"f{i}") for i in range(10)]
    assert _refused(tmp_path, *many, limits=small) == "more than 10 files"


def test_the_folder_must_be_fresh(tmp_path: Path) -> None:
    (tmp_path / "unpacked").mkdir()
    (tmp_path / "unpacked" / "mine").write_text("kept")
    with pytest.raises(FileExistsError):
        unpack_tar_gz(io.BytesIO(tar_gz(member(""), member("app.py"))), tmp_path / "unpacked")
    assert (tmp_path / "unpacked" / "mine").read_text() == "kept"


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        (member("passwd", tarfile.LNKTYPE, "/etc/passwd"), "a hard link"),
        (member("null", tarfile.CHRTYPE), "a special file"),
    ],
)
async def test_special_members_from_github_are_refused_in_chat(chat: Chat, bad: Member, what: str) -> None:
    chat.fake.tarballs["octo/evil"] = tar_gz(member(""), member("requirements.txt", data=b"\n"), bad)
    await chat.bot.say("k8orize repo octo/evil --no-trace --pr", user="alice")
    await chat.bot.settle()

    assert "- ✗ download" in chat.message(0).text
    [error] = chat.bot.adapter.texts(1)
    assert f"The archive of `octo/evil` holds {what}" in error
    assert chat.outputs() == [] and chat.leftovers() == [] and chat.fake.pulls == []
