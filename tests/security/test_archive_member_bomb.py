"""Attack: a small tar.gz with hundreds of thousands of members.

Before, `getmembers()` parsed the whole member list before the 20,000-member check: a 1.9 MB archive
with 300,000 members took 230 MB of memory before it was refused. Now members are read one at a time
and the count stops the unpacking at the first member past the limit, in bounded memory, leaving
nothing behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.e2e import test_k8orize_chat as k8orize_chat
from tests.e2e.test_k8orize_chat import Chat
from tests.security.tarballs import member_bomb

chat = k8orize_chat.chat

REPO = Path(__file__).resolve().parents[2]
MEMBERS = 300_000
EXTRA_MEMORY_LIMIT_KB = 50 * 1024

# Runs in a fresh interpreter so its peak RSS is the unpacker's alone (C buffers included).
MEASURE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from k8orize.archive import ArchiveRefused, unpack_tar_gz

    def peak_kb():  # this process's own high-water mark (ru_maxrss would include pytest's, via fork)
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmHWM:")[1].split()[0])

    archive, into = Path(sys.argv[1]), Path(sys.argv[2])
    before = peak_kb()
    try:
        with archive.open("rb") as stream:
            unpack_tar_gz(stream, into)
        what = None
    except ArchiveRefused as refused:
        what = refused.what
    after = peak_kb()
    print(json.dumps({"what": what, "before_kb": before, "extra_kb": after - before, "left": into.exists()}))
    """
)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomb.tar.gz"
    assert member_bomb(path, MEMBERS) < 3 * 2**20  # small on the wire, like the reviewer's 1.9 MB
    return path


def test_the_member_count_stops_the_unpacking_in_bounded_memory(bomb: Path, tmp_path: Path) -> None:
    into = tmp_path / "unpacked"
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(bomb), str(into)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    seen = json.loads(done.stdout)
    assert seen["what"] == "more than 20000 files"
    assert seen["extra_kb"] < EXTRA_MEMORY_LIMIT_KB, f"peak RSS grew by {seen['extra_kb']} KB"
    assert seen["left"] is False and not into.exists()


async def test_the_bomb_from_github_is_refused_in_chat(chat: Chat, bomb: Path) -> None:
    chat.fake.tarballs["octo/bomb"] = bomb.read_bytes()
    await chat.bot.say("k8orize repo octo/bomb --no-trace --pr", user="alice")
    await chat.bot.settle()

    assert "- ✗ download" in chat.message(0).text
    [error] = chat.bot.adapter.texts(1)
    assert "The archive of `octo/bomb` holds more than 20000 files, so I did not unpack it." in error
    assert chat.leftovers() == [] and chat.outputs() == [] and chat.fake.pulls == []
