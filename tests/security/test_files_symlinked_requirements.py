"""Attack: a workspace folder whose `requirements.txt` (or another file) is a link to a host file.

Before, the engine followed the link: the vault key's lines became "requirements" in the chat summary,
report.json, SUMMARY.md and the pull request. Now the app is read only through its file layer, which
refuses links that leave the app folder and anything that is not a regular file; the report names the
file it did not read, and nothing of the target is read, copied or sent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.e2e import test_k8orize_chat as k8orize_chat
from tests.e2e.test_k8orize_chat import Chat

chat = k8orize_chat.chat  # the whole-turn harness: real engine, real GitHub connector against its fake

SECRET = "vault-master-key-7f3c9e1d"
APP = {
    "app.py": "import json\n\nprint(json.dumps({'ok': True}))\n",
    "pyproject.toml": '[project]\nname = "shop"\nversion = "0.1"\ndependencies = []\n',
}


def _host_secret(chat: Chat) -> Path:
    """A file outside the workspace, as the vault key or a mounted Secret would be."""
    secret = chat.data_dir / "vault.key"
    secret.write_text(f"{SECRET}\nsecond-line-{SECRET}\n")
    return secret


def _everything_k8or_wrote(chat: Chat) -> str:
    texts = [*chat.bot.adapter.texts(), *(u.text or "" for u in chat.bot.adapter.updates)]
    for out in chat.outputs():
        texts += [p.read_bytes().decode("latin-1") for p in out.rglob("*") if p.is_file()]
    texts += [json.dumps(pull) for pull in chat.fake.pulls] + [json.dumps(chat.fake.files)]
    return "\n".join(texts)


async def test_a_linked_requirements_file_is_reported_not_read(chat: Chat) -> None:
    secret = _host_secret(chat)
    app = chat.app("shop", APP)
    (app / "requirements.txt").symlink_to(secret)
    (app / "config.py").symlink_to(secret)  # an app file linked out: never copied into the image

    await chat.bot.say("k8orize shop --no-trace", user="alice")
    await chat.bot.settle()

    reply = chat.message(1).text
    assert "**k8orized `shop`**" in reply
    assert "Files not read: `config.py`: a link that leaves the app folder" in reply
    assert "`requirements.txt`: a link that leaves the app folder" in reply
    [out] = chat.outputs()
    report = json.loads((out / "report.json").read_text())
    assert {"path": "requirements.txt", "reason": "a link that leaves the app folder (not followed)"} in (
        report["files"]["unreadable"]
    )
    assert report["dependencies"]["declared"] == []
    assert not (out / "image" / "app" / "config.py").exists()
    assert (out / "image" / "requirements.txt").read_text() == ""
    assert SECRET not in _everything_k8or_wrote(chat)
    assert str(secret) not in (out / "report.json").read_text()  # not even where it points


async def test_a_linked_manifest_alone_is_refused_by_name(chat: Chat) -> None:
    secret = _host_secret(chat)
    app = chat.app("shop", {"app.py": APP["app.py"]})
    (app / "requirements.txt").symlink_to(secret)

    await chat.bot.say("k8orize shop --no-trace", user="alice")
    await chat.bot.settle()

    progress = chat.message(0).text
    assert "- ✗ analyze" in progress
    [error] = chat.bot.adapter.texts(1)
    assert "requirements.txt could not be read (a link that leaves the app folder" in error
    assert "replace the link with the file itself" in error
    assert chat.outputs() == [] and SECRET not in _everything_k8or_wrote(chat)


async def test_a_fifo_in_the_app_is_reported_and_does_not_hang_the_run(chat: Chat) -> None:
    app = chat.app("shop", {**APP, "requirements.txt": "\n"})
    os.mkfifo(app / "feed.py")  # opening a fifo to read blocks until a writer comes: it must not be read

    await chat.bot.say("k8orize shop --no-trace", user="alice")
    await chat.bot.settle()

    [out] = chat.outputs()
    report = json.loads((out / "report.json").read_text())
    assert {"path": "feed.py", "reason": "not a regular file (a device, fifo, socket or broken link)"} in (
        report["files"]["unreadable"]
    )
    assert not (out / "image" / "app" / "feed.py").exists()
