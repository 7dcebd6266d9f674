"""A hostile app k8orized from chat: its build backend and its run hunt for the bot's secrets, and none
gets out.

The secrets (tests/support/hostile.py): the bot's K8OR_VAULT_KEY, a vault key file in its data folder,
a file in the system /tmp, another process's /proc/<pid>/environ, and a loopback socket of the bot's
that keeps what it receives. The app (tests/support/data/hostile-app) is a project with an in-tree
build backend, so installing it runs the backend; both hunt, bake the loot into the wheel, print it,
write it to /tmp and send it to the socket. tests/integration/k8orize/test_sandbox.py shows the same
hunt finds every secret when nothing stops it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import actions.k8orize
import dialogs.k8orize
from bot.identity import Person
from testing.chat.turns import TurnHarness
from tests.support.hostile import Planted, contents, hostile_app, planted

pytestmark = pytest.mark.timeout(300)
RUN = "k8orize hostile --run 'python app.py {port}' --probe http://127.0.0.1:{port}/health"


class Roles:
    TABLE = {"root": {"admin", "deployer"}, "alice": {"deployer"}}

    def roles_for(self, person: Person) -> frozenset[str]:
        return frozenset(self.TABLE.get(person.user_id, ()))


@dataclass
class Chat:
    bot: TurnHarness
    secrets: Planted
    data_dir: Path

    def said(self) -> list[str]:
        """Everything k8or said: every message as last shown, and every edit on the way."""
        adapter = self.bot.adapter
        return [m.text or "" for m in adapter.messages.values()] + [u.text or "" for u in adapter.updates]

    def outputs(self) -> list[Path]:
        root = self.data_dir / "k8orize"
        return sorted(root.iterdir()) if root.is_dir() else []


@pytest.fixture
async def chat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Chat]:
    with planted(monkeypatch, tmp_path) as secrets:
        async with TurnHarness.open(tmp_path, [dialogs.k8orize.commands], roles=Roles()) as bot:
            yield Chat(bot, secrets, tmp_path)


async def test_a_hostile_app_k8orized_from_chat_gets_nothing_out(chat: Chat) -> None:
    hostile_app(chat.data_dir / "workspace" / "hostile", chat.secrets)
    before = set(chat.secrets.loot_files())
    [started] = await chat.bot.say(RUN, user="root")
    assert started.startswith("⏳ k8orizing `hostile`")
    await chat.bot.settle()
    chat.secrets.sink.close()

    [out] = chat.outputs()
    steps = {s["step"]: s["status"] for s in json.loads((out / "report.json").read_text())["steps"]}
    assert [steps[s] for s in ("install", "trace", "trim", "verify trimmed", "verify enforced")] == ["ok"] * 5
    # The backend ran at install time, in the sandbox: its loot, baked into the wheel, reached the trimmed
    # tree; it holds only the sandbox's own environment.
    baked = (out / "image" / "site-packages" / "hostile_app_marker.py").read_text()
    assert "env HOME=/tmp/home" in baked and "/proc/1/environ" in baked
    assert "hunt run:" in (out / "runs" / "traced.log").read_text()  # and the app hunted when it ran
    assert "the sink is out of reach" in (out / "runs" / "traced.log").read_text()

    found = [*chat.said(), bytes(chat.secrets.sink.received), *contents(chat.data_dir / "k8orize")]
    assert chat.secrets.leaks(found) == []
    assert chat.secrets.sink.received == b""
    assert set(chat.secrets.loot_files()) == before  # nothing written to the host's /tmp


async def test_without_bubblewrap_chat_refuses_to_run_the_app(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile_app(chat.data_dir / "workspace" / "hostile", chat.secrets)
    monkeypatch.setattr(actions.k8orize, "unavailable_reason", lambda: "user namespaces are disabled here")
    [reply] = await chat.bot.say(RUN, user="root")
    await chat.bot.settle()
    assert reply.startswith(
        "The app was not run: its code runs only inside a bubblewrap sandbox, and user namespaces are "
        "disabled here. Leave out --run to k8orize it without running it. (reference `"
    )
    assert chat.outputs() == [] and chat.bot.adapter.updates == []
