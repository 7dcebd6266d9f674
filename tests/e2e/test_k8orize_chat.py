"""Whole turns for `k8orize <folder>` and `k8orize repo <owner/repo>`: the real engine (without a trace,
so nothing is installed or run), the real GitHub connector against its fake, the real pipeline.

The pieces alone (repository sources, archive checks, the step board) are in
tests/unit/dialogs/test_k8orize_pieces.py."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from cryptography.fernet import Fernet

import actions.k8orize
import connectors.github
import dialogs.k8orize
from bot.identity import Person
from bot.signin import SignInLinkStore
from bot.signin.components import SignIn
from connectors.base import ConnectorRegistry
from connectors.vault import CredentialVault, parse_keys
from k8orize.steps import STEPS
from testing.chat.turns import TurnHarness
from testing.services.faults import Fault
from testing.services.github import GithubState, build_tarball
from testing.services.wiring import Harness, base_url, build, close, serve

APP_FILES = {
    "requirements.txt": "# the standard library is enough\n",
    "app.py": "import json\n\nprint(json.dumps({'ok': True}))\n",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ALICE = "aad:aad-alice"  # the key TurnHarness gives user "alice" (her AAD object id)


class Roles:
    """RBAC by user id, as a file would hand it out."""

    TABLE = {"alice": {"deployer"}, "bob": {"deployer"}, "root": {"admin"}}

    def roles_for(self, person: Person) -> frozenset[str]:
        return frozenset(self.TABLE.get(person.user_id, ()))


@dataclass
class Chat:
    bot: TurnHarness
    github: Harness
    data_dir: Path

    @property
    def fake(self) -> GithubState:
        return self.github.state

    @property
    def workspace(self) -> Path:
        return self.data_dir / "workspace"

    def app(self, name: str, files: dict[str, str] = APP_FILES) -> Path:
        folder = self.workspace / name
        folder.mkdir(parents=True)
        for path, text in files.items():
            (folder / path).write_text(text)
        return folder

    def outputs(self) -> list[Path]:
        root = self.data_dir / "k8orize"
        return sorted(root.iterdir()) if root.is_dir() else []

    def leftovers(self) -> list[str]:
        """Downloads still in the workspace after a run."""
        return [p.name for p in self.workspace.glob(".github-*")] if self.workspace.is_dir() else []

    def message(self, index: int):  # type: ignore[no-untyped-def]
        return self.bot.adapter.messages[self.bot.adapter.order[index]]


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[Chat]:
    github, server = await build("github", moto_url="")
    async with TurnHarness.open(tmp_path, [dialogs.k8orize.commands], roles=Roles()) as bot:
        vault = CredentialVault(bot.services.db, parse_keys(Fernet.generate_key().decode(), "test"))
        links = SignInLinkStore(bot.services.db)
        signin = SignIn(ConnectorRegistry([github.connector]), vault, links, "http://k8or.test")
        bot.services.signin = signin
        bot.services.gate = signin.gate()
        await vault.put(ALICE, "github", github.credentials)
        yield Chat(bot, github, tmp_path)
    await close(github, server)


# --- a workspace folder ----------------------------------------------------------------------------


async def test_workspace_folder_is_k8orized_with_one_progress_message(chat: Chat) -> None:
    chat.app("shop")
    [started] = await chat.bot.say("k8orize shop --no-trace", user="alice")
    assert started.startswith("⏳ k8orizing `shop` from the workspace folder `shop`")
    await chat.bot.settle()

    progress_id = chat.bot.adapter.order[0]  # the adapter records only what k8or sends
    updates = chat.bot.adapter.updates
    assert updates and {u.id for u in updates} == {progress_id}
    assert len(updates) <= 2 * len(STEPS) + 1  # at most one edit per step change
    final = chat.bot.adapter.messages[progress_id].text
    assert "k8orized `shop` in" in final and "- ✓ analyze" in final and "- ✓ report" in final
    assert "…" not in final  # nothing left "running"

    reply = chat.message(1)
    assert len(chat.bot.adapter.order) == 2
    assert "**k8orized `shop`**" in reply.text and "Output: `k8orize/shop-" in reply.text
    picture, card = reply.attachments
    assert card.content_type == "application/vnd.microsoft.card.adaptive"  # the summary, as a card
    assert card.content["body"][0]["text"].startswith("k8orized shop")
    assert card.content["fallbackText"] == reply.text
    assert picture.content_type == "image/png" and picture.name == "pipeline.png"
    assert picture.content_url.startswith("data:image/png;base64,")
    assert base64.b64decode(picture.content_url.split(",", 1)[1]).startswith(PNG_MAGIC)

    [out] = chat.outputs()
    assert out.name.startswith("shop-") and (out / "report.json").is_file() and (out / "Dockerfile").is_file()


@pytest.mark.parametrize("path", ["..", "../../etc", "/etc", "shop/../..", "escape"])
async def test_a_path_outside_the_workspace_is_refused(chat: Chat, path: str) -> None:
    chat.app("shop")
    (chat.workspace / "escape").symlink_to("/etc")
    [reply] = await chat.bot.say(f"k8orize {path} --no-trace", user="alice")
    await chat.bot.settle()
    assert f"`{path}` is outside k8or's workspace" in reply
    assert chat.bot.adapter.updates == [] and chat.outputs() == []


async def test_an_unknown_folder_names_the_folders_there(chat: Chat) -> None:
    chat.app("shop")
    [reply] = await chat.bot.say("k8orize shoop --no-trace", user="alice")
    assert reply.startswith("There is no folder `shoop` in k8or's workspace. Folders there: `shop`.")
    [reply] = await chat.bot.say("k8orize octo/shop", user="alice")
    assert "say `k8orize repo octo/shop`" in reply
    assert chat.outputs() == []


async def test_run_needs_admin(chat: Chat) -> None:
    chat.app("shop")
    [reply] = await chat.bot.say("k8orize shop --run 'python app.py'", user="alice")
    assert "`--run` starts your app on the k8or host" in reply and "needs the `admin` role" in reply
    assert "you have: deployer" in reply
    await chat.bot.settle()
    assert chat.outputs() == []
    # An admin gets past the role check (and here, to the next one).
    [reply] = await chat.bot.say("k8orize nowhere --run 'python app.py'", user="root")
    assert "There is no folder `nowhere`" in reply


async def test_a_folder_the_engine_refuses_leaves_nothing_behind(chat: Chat) -> None:
    chat.app("notes", {"notes.txt": "no app here\n"})
    await chat.bot.say("k8orize notes --no-trace", user="alice")
    await chat.bot.settle()
    progress = chat.message(0).text
    assert progress.startswith("✗ k8orizing `notes` stopped:") and "- ✗ analyze" in progress
    [error] = chat.bot.adapter.texts(1)
    assert "(reference `" in error and "notes" in error
    assert chat.outputs() == []


# --- a GitHub repository ---------------------------------------------------------------------------


async def test_repository_is_k8orized_and_a_pull_request_carries_the_output(chat: Chat) -> None:
    chat.fake.seed_repository(
        "octo/shop", {**{f"web/{p}": t for p, t in APP_FILES.items()}, "README.md": "# shop\n"}
    )
    [started] = await chat.bot.say("k8orize repo octo/shop@main:web --no-trace --pr", user="alice")
    assert started.startswith("⏳ k8orizing `web` from GitHub `octo/shop@main:web`")
    await chat.bot.settle()

    assert chat.fake.downloads == [("octo/shop", "main")]
    [out] = chat.outputs()
    [pull] = chat.fake.pulls
    assert pull["head"]["ref"] == f"k8or/k8orize-{out.name.removeprefix('web-')}"
    assert pull["base"]["ref"] == "main"
    assert "**k8orized `web`**" in pull["body"] and "`pipeline.png`" in pull["body"]
    files = chat.fake.files  # k8or/ in the app's folder: the build context of its Dockerfile
    assert {
        "web/k8or/repository/Dockerfile",
        "web/k8or/repository/keep-files.txt",
        "web/k8or/repository/keep.py",
        "web/k8or/report.json",
        "web/k8or/SUMMARY.md",
        "web/k8or/README.md",
        "web/k8or/audit.rules",
    } <= set(files)
    assert "web/k8or/manifests/30-deployment.yaml" in files
    assert all(p.startswith("web/k8or/") and not p.startswith("web/k8or/image/") for p in files)
    assert "web/k8or/Dockerfile" not in files  # it copies image/, which the pull request does not carry
    assert not any(p.endswith(".png") for p in files)
    committed = base64.b64decode(files["web/k8or/repository/Dockerfile"]).decode()
    assert committed == (out / "repository" / "Dockerfile").read_text()
    assert "COPY image/" not in committed and "-r requirements.txt" in committed

    progress = chat.message(0).text
    assert "- ✓ download" in progress and "- ✓ pull request" in progress
    reply = chat.message(1)
    assert "Pull request: https://github.com/octo/shop/pull/1" in reply.text
    assert reply.attachments[0].content_type == "image/png"
    assert chat.leftovers() == []


async def test_the_pipeline_picture_goes_on_a_miro_board_as_the_person(tmp_path: Path) -> None:
    """`k8orize … --miro-board BOARD` puts pipeline.png on the board through the person's Miro
    sign-in; without one the summary says so in one line, and the k8orization stands."""
    miro, server = await build("miro", moto_url="")
    try:
        async with TurnHarness.open(tmp_path, [dialogs.k8orize.commands], roles=Roles()) as bot:
            vault = CredentialVault(bot.services.db, parse_keys(Fernet.generate_key().decode(), "test"))
            links = SignInLinkStore(bot.services.db)
            bot.services.signin = SignIn(
                ConnectorRegistry([miro.connector]), vault, links, "http://k8or.test"
            )
            chat = Chat(bot, miro, tmp_path)
            chat.app("shop")
            await bot.say("k8orize shop --no-trace --miro-board uXjVOD6LSME=", user="bob")  # no sign-in
            await bot.settle()
            assert miro.state.images == []
            assert "✗ Miro" in bot.adapter.texts()[-1] and "**k8orized `shop`**" in bot.adapter.texts()[-1]
            await vault.put(ALICE, "miro", miro.credentials)
            await bot.say("k8orize shop --no-trace --miro-board uXjVOD6LSME=", user="alice")
            await bot.settle()
            [(board, title, png)] = miro.state.images
            assert board == "uXjVOD6LSME=" and title == "k8orize: shop" and png.startswith(b"\x89PNG")
            assert "✓ Miro: k8orize: shop is on the board" in bot.adapter.texts()[-1]
    finally:
        await close(miro, server)


async def test_a_resumed_repository_job_keeps_its_one_pull_request(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replica that dies after opening the pull request leaves the job to be resumed elsewhere: the
    resumed run commits to the same branch and answers the same pull request, not a second one."""
    from bot.jobs import JobRun
    from bot.jobs.inprocess import InProcessQueue

    async def run_then_resume(self, record, run, handler) -> None:  # type: ignore[no-untyped-def]
        await handler(run)
        await handler(JobRun(run.ctx, run.progress, run.arguments, attempt=1))

    monkeypatch.setattr(InProcessQueue, "submit", run_then_resume)
    chat.fake.seed_repository("octo/shop", {f"web/{p}": t for p, t in APP_FILES.items()})
    await chat.bot.say("k8orize repo octo/shop@main:web --no-trace --pr", user="alice")
    await chat.bot.settle()

    assert len(chat.fake.downloads) == 2  # the resumed run did its work again
    [pull] = chat.fake.pulls
    assert pull["head"]["ref"].startswith("k8or/k8orize-")
    replies = [text for text in chat.bot.adapter.texts() if "Pull request:" in text]
    assert replies and all("https://github.com/octo/shop/pull/1" in text for text in replies)


async def test_without_github_sign_in_the_gate_answers_and_nothing_is_fetched(chat: Chat) -> None:
    chat.fake.seed_repository("octo/shop", APP_FILES)
    [reply] = await chat.bot.say("k8orize repo octo/shop --no-trace --pr", user="bob")
    await chat.bot.settle()
    assert "`k8orize repo` acts as you on GitHub" in reply and "/signin/" in reply
    assert chat.fake.downloads == [] and chat.fake.pulls == [] and chat.outputs() == []


async def test_an_archive_with_a_dotdot_member_is_refused(chat: Chat) -> None:
    chat.fake.tarballs["octo/evil"] = build_tarball("octo-evil-0a1b2c3", {**APP_FILES, "../../evil": "x"})
    await chat.bot.say("k8orize repo octo/evil --no-trace", user="alice")
    await chat.bot.settle()
    progress = chat.message(0).text
    assert "- ✗ download" in progress
    [error] = chat.bot.adapter.texts(1)
    assert "The archive of `octo/evil` holds a path outside its folder" in error
    assert not (chat.data_dir / "evil").exists() and not (chat.workspace / "evil").exists()
    assert chat.leftovers() == [] and chat.outputs() == []


async def test_an_unknown_repository_is_named(chat: Chat) -> None:
    await chat.bot.say("k8orize repo octo/nothing --no-trace", user="alice")
    await chat.bot.settle()
    [error] = chat.bot.adapter.texts(1)
    assert "GitHub has no such repository or ref that you can see." in error
    assert chat.leftovers() == []


async def test_rejected_credentials_stop_the_download(chat: Chat) -> None:
    chat.fake.seed_repository("octo/shop", APP_FILES)
    chat.fake.switch.fault = Fault.UNAUTHORIZED
    await chat.bot.say("k8orize repo octo/shop --no-trace", user="alice")
    await chat.bot.settle()
    [error] = chat.bot.adapter.texts(1)
    assert "GitHub rejected your credentials (HTTP 401). Sign in again with `login github`." in error
    assert github_token(chat) not in error and chat.outputs() == [] and chat.leftovers() == []


async def test_the_token_stays_on_the_api_host(chat: Chat) -> None:
    """GitHub redirects to codeload, which gets no Authorization header; the API host does."""
    chat.fake.seed_repository("octo/shop", APP_FILES)
    seen: list[str | None] = []

    async def codeload(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.Response(body=chat.fake.tarballs["octo/shop"])

    other = web.Application()
    other.router.add_get("/_codeload/{owner}/{repo}/{ref:.+}", codeload)
    server = await serve(other)
    try:
        chat.fake.archive_origin = base_url(server)
        elsewhere = await chat.github.connector.download_repository(chat.github.credentials, "octo/shop")
        chat.fake.archive_origin = ""
        here = await chat.github.connector.download_repository(chat.github.credentials, "octo/shop", "v1")
    finally:
        await server.close()
    assert seen == [None] and elsewhere == here == chat.fake.tarballs["octo/shop"]
    assert chat.fake.downloads == [("octo/shop", "v1")]  # the fake itself checked the token


async def test_an_archive_over_the_cap_is_not_read_to_the_end(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat.fake.seed_repository("octo/big", {"app.py": os.urandom(256 * 1024)})
    monkeypatch.setattr(connectors.github, "ARCHIVE_MAX_BYTES", 64 * 1024)
    with pytest.raises(connectors.github.ArchiveTooLarge):
        await chat.github.connector.download_repository(chat.github.credentials, "octo/big")


def github_token(chat: Chat) -> str:
    return chat.github.credentials["token"]


async def test_base_without_pr_is_a_usage_error(chat: Chat) -> None:
    [reply] = await chat.bot.say("k8orize repo octo/shop --base dev", user="alice")
    assert "add `--pr`" in reply and chat.fake.downloads == []


async def test_a_second_run_waits_for_the_first(chat: Chat) -> None:
    chat.app("shop")
    chat.app("cart")
    await chat.bot.say("k8orize shop --no-trace", user="alice")
    await chat.bot.say("k8orize cart --no-trace", user="alice")
    await chat.bot.settle()
    queued = actions.k8orize.QUEUED.format(place="1st", limit=1, s="")
    waiting = [u for u in chat.bot.adapter.updates if u.text == queued]
    assert len(waiting) == 1  # the second run said where it stands in line, once
    assert {p.name.split("-")[0] for p in chat.outputs()} == {"shop", "cart"}
