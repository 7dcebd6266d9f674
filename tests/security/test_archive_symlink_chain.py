"""Attack: a repository archive whose links chain out of the unpacked tree.

`a -> ..` and `b -> a/..` each look harmless to a check that reads the link text alone, and
`requirements.txt -> c/vault.key` then reads a host file into the summary, report and pull request.
Now each link is resolved against the members already on disk when it arrives, and every link again
in the finished tree, so the chain is refused whatever its order; nothing is unpacked, read, run,
stored or sent.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from k8orize.archive import ArchiveRefused, unpack_tar_gz
from tests.e2e import test_k8orize_chat as k8orize_chat
from tests.e2e.test_k8orize_chat import APP_FILES, Chat
from tests.security.tarballs import member, tar_gz

chat = k8orize_chat.chat

SECRET = "vault-master-key-1b2d4f"
SYM = tarfile.SYMTYPE


def _chain_archive() -> bytes:
    """Each link climbs one folder further: the unpack folder, the download folder, the workspace…"""
    return tar_gz(
        member(""),
        *(member(path, data=text.encode()) for path, text in APP_FILES.items() if path != "requirements.txt"),
        member("a", SYM, ".."),
        member("b", SYM, "a/.."),
        member("c", SYM, "b/.."),
        member("d", SYM, "c/.."),
        member("e", SYM, "d/.."),
        member("requirements.txt", SYM, "e/vault.key"),
    )


async def test_a_link_chain_in_a_repository_is_refused_and_nothing_is_sent(chat: Chat) -> None:
    for folder in (chat.data_dir, chat.data_dir.parent):  # wherever the chain would land
        (folder / "vault.key").write_text(f"{SECRET}\n")
    chat.fake.tarballs["octo/evil"] = _chain_archive()

    await chat.bot.say("k8orize repo octo/evil --no-trace --pr", user="alice")
    await chat.bot.settle()

    assert "- ✗ download" in chat.message(0).text
    [error] = chat.bot.adapter.texts(1)
    assert "The archive of `octo/evil` holds a link pointing outside it (`octo-evil-0a1b2c3/b`)" in error
    assert [repo for repo, _ in chat.fake.downloads] == ["octo/evil"]
    assert chat.fake.pulls == [] and chat.fake.files == {}
    assert chat.outputs() == [] and chat.leftovers() == []
    sent = "\n".join([*chat.bot.adapter.texts(), *(u.text or "" for u in chat.bot.adapter.updates)])
    assert SECRET not in sent and SECRET not in json.dumps(chat.fake.files)


@pytest.mark.parametrize(
    "links",
    [
        [("a", ".."), ("b", "a/..")],  # in name order
        [("b", "a/.."), ("a", "..")],  # a forward reference: `a` changes what `b` meant
        [("b", "x/../.."), ("x", "..")],  # through a folder that does not exist yet
        [("sub/up", "../../.."), ("sub", ".")],  # deeper than the tree
    ],
)
def test_link_chains_are_refused_in_any_order(tmp_path: Path, links: list[tuple[str, str]]) -> None:
    archive = tar_gz(
        member(""), member("app.py"), member("sub", tarfile.DIRTYPE), *(member(n, SYM, t) for n, t in links)
    )
    into = tmp_path / "unpacked"
    with pytest.raises(ArchiveRefused, match="a (link pointing outside it|path through a link)"):
        unpack_tar_gz(io.BytesIO(archive), into)
    assert list(tmp_path.iterdir()) == []  # the partial tree is gone


def test_a_file_written_through_a_link_is_refused(tmp_path: Path) -> None:
    archive = tar_gz(member(""), member("here", SYM, "."), member("here/app.py"))
    with pytest.raises(ArchiveRefused, match="a path through a link"):
        unpack_tar_gz(io.BytesIO(archive), tmp_path / "unpacked")
    assert list(tmp_path.iterdir()) == []


def test_links_that_stay_inside_are_kept(tmp_path: Path) -> None:
    archive = tar_gz(member(""), member("app.py", data=b"print(1)\n"), member("main.py", SYM, "app.py"))
    top = unpack_tar_gz(io.BytesIO(archive), tmp_path / "unpacked")
    assert (top / "main.py").is_symlink() and (top / "main.py").read_text() == "print(1)\n"
