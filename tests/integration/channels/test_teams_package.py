"""`k8or teams package`: the zip a Teams admin uploads, checked against the official manifest schema
(v1.30, vendored with its source in tests/support/data/teams/) and with its icons decoded by Pillow."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from PIL import Image

from k8or.app import default_registry
from k8or.cli import main
from tests.support.tools import ROOT

APP_ID = "11111111-2222-3333-4444-555555555555"
PUBLIC_URL = "https://k8or.example.com"
SCHEMA = ROOT / "tests/support/data/teams/MicrosoftTeams.v1.30.schema.json"


@pytest.fixture
def public_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)  # no .env from the developer's tree
    monkeypatch.setenv("K8OR_PUBLIC_URL", PUBLIC_URL)
    return PUBLIC_URL


def _package(tmp_path: Path, *options: str) -> zipfile.ZipFile:
    out = tmp_path / "k8or-teams.zip"
    assert main(["teams", "package", "--app-id", APP_ID, *options, "--out", str(out)]) == 0
    return zipfile.ZipFile(out)


def _manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    return json.loads(archive.read("manifest.json"))


def test_the_package_holds_a_manifest_the_official_schema_accepts(public_url, tmp_path):
    archive = _package(tmp_path)
    assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
    manifest = _manifest(archive)
    schema = json.loads(SCHEMA.read_text())
    assert manifest["$schema"].endswith("/teams/v1.30/MicrosoftTeams.schema.json")
    assert manifest["manifestVersion"] == schema["properties"]["manifestVersion"]["const"]
    errors = sorted(Draft4Validator(schema).iter_errors(manifest), key=str)
    assert [f"{list(e.absolute_path)}: {e.message}" for e in errors] == []


def test_the_bot_is_this_app_in_every_scope_with_k8ors_domain(public_url, tmp_path):
    manifest = _manifest(_package(tmp_path, "--name", "k8or prod"))
    assert manifest["id"] == APP_ID
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    assert manifest["validDomains"] == ["k8or.example.com"]
    assert manifest["name"]["short"] == "k8or prod"
    assert manifest["developer"]["privacyUrl"] == f"{PUBLIC_URL}/privacy"
    assert manifest["developer"]["termsOfUseUrl"] == f"{PUBLIC_URL}/terms"
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_every_menu_entry_is_a_command_k8or_answers_within_teams_limits(public_url, tmp_path):
    (command_list,) = _manifest(_package(tmp_path))["bots"][0]["commandLists"]
    assert command_list["scopes"] == ["personal", "team", "groupChat"]
    commands = command_list["commands"]
    assert len(commands) == 10
    registry = default_registry()
    for entry in commands:
        assert len(entry["title"]) <= 32 and 0 < len(entry["description"]) <= 128
        spec, rest = registry.resolve(entry["title"].split())  # what choosing the entry sends
        assert spec.name == entry["title"] and rest == []
        assert not spec.destructive
        assert entry["description"].startswith(spec.summary[:60].rstrip("…"))
    assert commands[0]["title"] == "help"
    assert {"status", "logs", "rollback", "deploy", "login"} <= {c["title"] for c in commands}


def test_icons_are_the_sizes_teams_requires_and_the_outline_is_white_on_transparent(public_url, tmp_path):
    archive = _package(tmp_path)
    color = Image.open(io.BytesIO(archive.read("color.png")))
    outline = Image.open(io.BytesIO(archive.read("outline.png")))
    assert (color.format, color.size) == ("PNG", (192, 192))
    assert (outline.format, outline.size) == ("PNG", (32, 32))
    assert color.convert("RGBA").getextrema()[3] == (255, 255)  # opaque everywhere
    pixels = list(outline.convert("RGBA").getdata())
    assert all(a == 0 or (r, g, b) == (255, 255, 255) for r, g, b, a in pixels)
    drawn = sum(1 for *_, a in pixels if a > 128)
    assert 0.15 * len(pixels) < drawn < 0.6 * len(pixels)  # a visible mark, not a blank or a block


def test_the_same_inputs_give_the_same_bytes(public_url, tmp_path):
    first = (tmp_path / "a.zip", tmp_path / "b.zip")
    for out in first:
        assert main(["teams", "package", "--app-id", APP_ID, "--out", str(out)]) == 0
    assert first[0].read_bytes() == first[1].read_bytes()


def test_the_app_id_defaults_to_the_bots_own(public_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MicrosoftAppId", APP_ID.replace("1", "a"))  # as `k8or serve` has it
    monkeypatch.setenv("MicrosoftAppPassword", "not-a-real-password")
    out = tmp_path / "k8or-teams.zip"
    assert main(["teams", "package", "--out", str(out)]) == 0
    assert _manifest(zipfile.ZipFile(out))["bots"][0]["botId"] == APP_ID.replace("1", "a")


@pytest.mark.parametrize(
    ("options", "env", "says"),
    [
        (["--app-id", "my-bot"], {}, "--app-id must be the bot's Microsoft App ID, a GUID"),
        ([], {}, "give the bot's Microsoft App ID: --app-id"),
        (["--app-id", APP_ID, "--name", "k" * 31], {}, "--name must be 1 to 30 characters"),
        (["--app-id", APP_ID, "--developer", "d" * 33], {}, "--developer must be 1 to 32 characters"),
        (["--app-id", APP_ID, "--app-version", "2"], {}, "--app-version must be MAJOR.MINOR.PATCH"),
        (
            ["--app-id", APP_ID, "--privacy-url", "example.com/p"],
            {},
            "--privacy-url must be an http(s):// URL",
        ),
        (
            ["--app-id", APP_ID],
            {"K8OR_PUBLIC_URL": "http://localhost:3978"},
            "K8OR_PUBLIC_URL must be the https://",
        ),
    ],
    ids=["not-a-guid", "no-app-id", "long-name", "long-developer", "bad-version", "bad-privacy-url", "http"],
)
def test_bad_input_is_refused_with_the_fix_and_writes_nothing(
    public_url, tmp_path, monkeypatch, capsys, options, env, says
):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "k8or-teams.zip"
    assert main(["teams", "package", *options, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("k8or: ") and says in err
    assert "Traceback" not in err
    assert not out.exists()


def test_the_operator_guide_lists_the_menu_the_package_has(public_url, tmp_path):
    guide = (ROOT / "docs/operator/teams.md").read_text()
    titles = [c["title"] for c in _manifest(_package(tmp_path))["bots"][0]["commandLists"][0]["commands"]]
    listed = ", ".join(f"`{title}`" for title in titles)
    assert listed in " ".join(guide.split())
    assert f"schema **v{_manifest(_package(tmp_path))['manifestVersion']}**" in guide
