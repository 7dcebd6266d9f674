"""Where k8orize pushes a person's image through the Docker Hub connector: their Docker ID's repository on
the connector's registry (Docker Hub's own, or the one its settings name)."""

from __future__ import annotations

from connectors.base import Credentials
from connectors.dockerhub import DockerhubConnector, push_host
from connectors.settings import DockerhubSettings

ADA = Credentials(username="Ada", token="dckr_pat_x")


def test_docker_hub_s_registry_is_named_as_image_references_name_it() -> None:
    assert push_host("https://registry-1.docker.io") == "docker.io"
    assert DockerhubConnector().push_repository(ADA, "shop") == "docker.io/ada/shop"


def test_a_configured_registry_receives_the_push() -> None:
    connector = DockerhubConnector(DockerhubSettings(registry_url="http://127.0.0.1:41234"))
    assert connector.push_repository(ADA, "shop") == "127.0.0.1:41234/ada/shop"
