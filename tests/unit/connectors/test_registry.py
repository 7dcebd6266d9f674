"""The connector registry: entry points (built-in and third-party), and contract checks at registration."""

from __future__ import annotations

import importlib
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from connectors import errors
from connectors.base import ENTRY_POINT_GROUP, ConnectorRegistry, Credentials, Identity, RegistrationError
from connectors.builtin import BUILTIN_ENTRY_POINTS
from connectors.settings import GithubSettings
from connectors.toggl import TogglConnector

DUMMY_MODULE = """
from connectors.base import Connector, FieldSpec, Identity, TokenFields


class DummyConnector(Connector):
    name = "dummy"
    display_name = "Dummy Service"

    def sign_in_methods(self):
        return (TokenFields(key="token", label="Token", fields=(FieldSpec("token", "Token", secret=True),)),)

    async def verify(self, credentials):
        return Identity(subject="dummy-user", display_name="Dummy User")
"""


def install_distribution(root: Path, name: str, module: str, source: str, entry_lines: str) -> None:
    """Lay out an installed distribution (module + dist-info with entry_points.txt) under `root`."""
    (root / f"{module}.py").write_text(source)
    dist_info = root / f"{name}-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{textwrap.dedent(entry_lines)}")
    importlib.invalidate_caches()


async def test_third_party_distribution_adds_a_connector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_distribution(
        tmp_path,
        "k8or_dummy",
        "k8or_dummy_connector",
        DUMMY_MODULE,
        "dummy = k8or_dummy_connector:DummyConnector\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = ConnectorRegistry.from_entry_points(only=["dummy"])
    connector = registry.get("dummy")
    assert connector.display_name == "Dummy Service"
    assert (await connector.verify(Credentials(token="t"))).subject == "dummy-user"


def test_builtins_load_from_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The seven built-ins, registered the way pyproject.toml's entry points register them."""
    if not {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)} >= set(BUILTIN_ENTRY_POINTS):
        lines = "".join(f"{name} = {target}\n" for name, target in BUILTIN_ENTRY_POINTS.items())
        install_distribution(tmp_path, "k8or_builtins_shim", "k8or_builtins_shim", "", lines)
        monkeypatch.syspath_prepend(str(tmp_path))

    class Root:
        github = GithubSettings(api_url="https://ghe.example.com/api/v3")

        site_allowlist = "*.atlassian.net,jira.corp.example.com:8443"

    registry = ConnectorRegistry.from_entry_points(Root(), only=BUILTIN_ENTRY_POINTS)
    assert sorted(registry.names()) == sorted(BUILTIN_ENTRY_POINTS)
    assert registry.get("github").settings.api_url == "https://ghe.example.com/api/v3"
    assert registry.get("toggl").settings.api_url == "https://api.track.toggl.com"
    # Every connector gets the site guard of K8OR_SITE_ALLOWLIST; Jira's form applies it.
    jira = registry.get("jira")
    form = {"site": "http://jira.corp.example.com:8443/jira/?x=1", "pat": "t"}
    assert jira.credentials_from_form(jira.sign_in_method("server"), form)["site"] == (
        "http://jira.corp.example.com:8443/jira"
    )
    with pytest.raises(errors.SiteRefused):
        jira.credentials_from_form(
            jira.sign_in_method("server"), {"site": "https://evil.example", "pat": "t"}
        )


def test_bad_site_allowlist_stops_loading_with_the_setting_named() -> None:
    class Root:
        site_allowlist = "https://jira.example.com/"

    with pytest.raises(ValueError, match="K8OR_SITE_ALLOWLIST"):
        ConnectorRegistry.from_entry_points(Root(), only=["jira"])


def test_installed_entry_points_match_builtins() -> None:
    installed = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if not installed:
        pytest.skip("k8or's entry points are not installed in this environment yet")
    for name, target in BUILTIN_ENTRY_POINTS.items():
        assert installed.get(name) == target


def test_name_clash_is_refused() -> None:
    registry = ConnectorRegistry([TogglConnector()])
    with pytest.raises(RegistrationError, match="already registered"):
        registry.register(TogglConnector())


def test_verify_must_be_a_coroutine() -> None:
    class Blocking(TogglConnector):
        name = "blocking"

        def verify(self, credentials: Credentials) -> Identity:  # type: ignore[override]
            return Identity("x", "x")

    with pytest.raises(RegistrationError, match="coroutine"):
        ConnectorRegistry([Blocking()])


def test_entry_point_must_name_a_connector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_distribution(
        tmp_path,
        "k8or_broken",
        "k8or_broken_connector",
        "class NotAConnector: pass\n",
        "broken = k8or_broken_connector:NotAConnector\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(RegistrationError, match="broken"):
        ConnectorRegistry.from_entry_points(only=["broken"])
