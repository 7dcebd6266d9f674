"""The pieces of `k8orize repo` on their own: repository sources, the archive checks, the step board,
and a connector error raised in the background. Whole turns are in tests/e2e/test_k8orize_chat.py."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

import dialogs.k8orize_handlers
from actions.k8orize import UnsafeArchive, unpack_repository
from actions.repository_source import RepositorySource
from dialogs.k8orize_board import LiveBoard, StepBoard


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("octo/shop", RepositorySource("octo/shop")),
        ("octo/shop@v1.2", RepositorySource("octo/shop", "v1.2")),
        ("octo/shop@feature/x:services/web/", RepositorySource("octo/shop", "feature/x", "services/web")),
        ("octo/shop:web", RepositorySource("octo/shop", None, "web")),
    ],
)
def test_repository_sources(raw: str, expected: RepositorySource) -> None:
    assert RepositorySource.parse(raw) == expected
    assert str(expected) == raw.rstrip("/")


@pytest.mark.parametrize("raw", ["shop", "octo/..", "octo/shop:../up", "-octo/shop", "octo/shop@"])
def test_bad_repository_sources(raw: str) -> None:
    with pytest.raises(ValueError):
        RepositorySource.parse(raw)


def _archive(*members: tarfile.TarInfo) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for member in members:
            tar.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    return buffer.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", size: int = 1) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, size if kind == tarfile.REGTYPE else 0
    return info


@pytest.mark.parametrize(
    ("member", "what"),
    [
        (_member("/etc/cron.d/evil"), "a path outside its folder"),
        (_member("top/../../evil"), "a path outside its folder"),
        (_member("top/link", tarfile.SYMTYPE, "../../etc/passwd"), "a link pointing outside it"),
        (_member("top/link", tarfile.SYMTYPE, "/etc/passwd"), "a link pointing outside it"),
        (_member("top/hard", tarfile.LNKTYPE, "../etc/passwd"), "a hard link"),
        (_member("top/fifo", tarfile.FIFOTYPE), "a special file"),
    ],
)
def test_unsafe_members_refuse_the_whole_archive(tmp_path: Path, member: tarfile.TarInfo, what: str) -> None:
    archive = _archive(_member("top/app.py"), member)
    with pytest.raises(UnsafeArchive, match=what):
        unpack_repository(archive, tmp_path, "octo/shop")
    assert list(tmp_path.iterdir()) == []


def test_links_inside_the_archive_are_kept(tmp_path: Path) -> None:
    archive = _archive(_member("top/app.py"), _member("top/main.py", tarfile.SYMTYPE, "app.py"))
    top = unpack_repository(archive, tmp_path, "octo/shop")
    assert top.name == "top" and (top / "main.py").read_text() == "x"


def test_not_a_tarball_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsafeArchive, match="no readable tar.gz"):
        unpack_repository(b"<html>not found</html>", tmp_path, "octo/shop")


class RecordingMessage:
    def __init__(self) -> None:
        self.texts: list[str] = []

    async def update(self, text: str) -> None:
        self.texts.append(text)


async def test_queued_step_changes_become_one_edit() -> None:
    board, msg = StepBoard("⏳", ("analyze", "dockerfile", "manifests", "report")), RecordingMessage()
    live = LiveBoard(board, msg)
    for step in ("analyze", "dockerfile", "manifests"):  # all queued before the loop gets to edit
        await live.show((step, "running"))
        await live.show((step, "ok"))
    await live.flush()
    assert msg.texts == ["⏳\n- ✓ analyze\n- ✓ dockerfile\n- ✓ manifests\n- · report"]


class _ReplyRecorder:
    """Just enough of a CommandContext for `reported`: the replies it sends."""

    correlation_id = "cid-1"

    def __init__(self) -> None:
        self.replies: list[str] = []
        self.spec = type("Spec", (), {"name": "k8orize repo"})()

    async def reply(self, text: str) -> None:
        self.replies.append(text)


async def test_a_connector_error_in_the_background_reaches_the_person_as_itself() -> None:
    from connectors.errors import CredentialsExpired

    ctx, msg = _ReplyRecorder(), RecordingMessage()
    live = LiveBoard(StepBoard("⏳", ("download",)), msg)
    error = CredentialsExpired("github", "GitHub")
    async with dialogs.k8orize_handlers.reported(ctx, live, "shop"):  # type: ignore[arg-type]
        raise error
    assert ctx.replies and str(error) in ctx.replies[0]
    assert "internal error" not in ctx.replies[0] and "internal error" not in msg.texts[-1]
