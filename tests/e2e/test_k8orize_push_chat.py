"""`k8orize <folder> --push` from chat: the image goes to the person's Docker Hub repository, as them, through
the Docker Hub connector. Its registry here is a real one on 127.0.0.1 (testing/registry.py) that asks for
the person's Docker ID and token, as Docker Hub does; the digest the manifests pin is the one it serves.

The base image the engine builds FROM is the locally made one (tests cannot pull python:*-slim), named by
the operator's setting K8OR_K8ORIZE_BASE_IMAGE, as a k8or without Docker Hub's python images would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

import dialogs.k8orize
from bot.identity import Person
from bot.signin import SignInLinkStore
from bot.signin.components import SignIn
from connectors.base import ConnectorRegistry, Credentials
from connectors.dockerhub import DockerhubConnector
from connectors.settings import DockerhubSettings
from connectors.vault import CredentialVault, parse_keys
from k8orize.image import BuiltImage, remove_image
from testing.chat.turns import TurnHarness
from testing.registry import LocalRegistry, local_registry
from tests.support.images import base_image  # noqa: F401  (fixture)

ALICE = "aad:aad-alice"  # the key TurnHarness gives user "alice"
DOCKER_ID, TOKEN = "alice", "dckr_pat_alice-test-token"
APP_FILES = {"requirements.txt": "# the standard library is enough\n", "app.py": "print('ok')\n"}


class Roles:
    def roles_for(self, person: Person) -> frozenset[str]:
        return frozenset({"deployer"} if person.user_id in ("alice", "bob") else ())


@dataclass
class Chat:
    bot: TurnHarness
    registry: LocalRegistry
    data_dir: Path
    base_image: str

    def app(self, name: str) -> None:
        folder = self.data_dir / "workspace" / name
        folder.mkdir(parents=True)
        for path, text in APP_FILES.items():
            (folder / path).write_text(text)

    def outputs(self) -> list[Path]:
        root = self.data_dir / "k8orize"
        return sorted(root.iterdir()) if root.is_dir() else []


@pytest.fixture
async def chat(tmp_path: Path, base_image: str) -> AsyncIterator[Chat]:  # noqa: F811
    with local_registry(tmp_path / "registry", users={DOCKER_ID: TOKEN}) as registry:
        dockerhub = DockerhubConnector(DockerhubSettings(registry_url=registry.url))
        async with TurnHarness.open(
            tmp_path, [dialogs.k8orize.commands], roles=Roles(), k8orize_base_image=base_image
        ) as bot:
            vault = CredentialVault(bot.services.db, parse_keys(Fernet.generate_key().decode(), "test"))
            signin = SignIn(
                ConnectorRegistry([dockerhub]), vault, SignInLinkStore(bot.services.db), "http://k8or.test"
            )
            bot.services.signin = signin
            bot.services.gate = signin.gate()
            await vault.put(ALICE, "dockerhub", Credentials(username=DOCKER_ID, token=TOKEN))
            yield Chat(bot, registry, tmp_path, base_image)
        await dockerhub.aclose()


async def test_push_goes_to_the_person_s_docker_hub_and_the_manifests_pin_its_digest(chat: Chat) -> None:
    chat.app("shop")
    await chat.bot.say("k8orize shop --no-trace --push", user="alice")
    await chat.bot.settle()
    [out] = chat.outputs()
    report = yaml.safe_load((out / "report.json").read_text())
    image = report["image"]
    try:
        assert image["base_image"] == chat.base_image  # the operator's setting, not python:*-slim
        pushed = image["pushed"]
        assert pushed is not None, report["steps"]
        assert pushed["destination"].startswith(f"{chat.registry.host}/{DOCKER_ID}/shop:")
        tag = pushed["destination"].rsplit(":", 1)[1]
        assert chat.registry.manifest_digest(f"{DOCKER_ID}/shop", tag) == pushed["digest"]
        deployment = yaml.safe_load((out / "manifests" / "30-deployment.yaml").read_text())
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["image"] == f"{chat.registry.host}/{DOCKER_ID}/shop@{pushed['digest']}"
        reply = chat.bot.adapter.texts(1)[0]
        assert f"pinned as `{container['image']}`" in reply
        assert TOKEN not in reply and TOKEN not in (out / "report.json").read_text()
        assert TOKEN not in "".join(p.read_text(errors="replace") for p in out.glob("*.log"))
    finally:
        remove_image(BuiltImage(image["reference"] or "", image["image_id"] or "", 0))


async def test_push_without_a_docker_hub_sign_in_is_refused_in_the_turn(chat: Chat) -> None:
    chat.app("shop")
    [reply] = await chat.bot.say("k8orize shop --no-trace --push", user="bob")
    await chat.bot.settle()
    assert reply.startswith("You have not signed in to Docker Hub. Sign in with `login dockerhub`.")
    assert chat.outputs() == [] and chat.bot.adapter.updates == []
