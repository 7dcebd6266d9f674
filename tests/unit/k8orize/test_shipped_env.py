"""`--env` in what ships: plain values in the Deployment (and the image's ENV), secrets only in the app's
Secret, read through `secretKeyRef`; the pull request's files never include the Secret."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from k8orize import hardening
from k8orize.dockerfile import DockerfileSpec, render
from k8orize.engine import K8orizeResult
from k8orize.manifests import SECRET_FILE, ManifestSpec, render_all

SECRET = "q7Vx2LmP9sKd4RtY8wZb3NcF6hJ1aE5u"


def _spec(**overrides: object) -> ManifestSpec:
    values: dict[str, object] = dict(
        name="shop",
        image="registry.example.com/shop:1",
        uid=hardening.app_uid("shop"),
        port=8080,
        health_path="/health",
        env={"PORT": "8080", "GREETING": "hi"},
        secret_env=("API_KEY",),
    )
    values.update(overrides)
    return ManifestSpec(**values)  # type: ignore[arg-type]


def test_the_deployments_read_secrets_from_the_secret_and_settings_as_values() -> None:
    files = render_all(_spec(), {"API_KEY": SECRET})
    deployments = [o for objs in files.values() for o in objs if o["kind"] == "Deployment"]
    assert len(deployments) == 3  # the app and its two storage variants
    for deployment in deployments:
        env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["PORT"] == {"name": "PORT", "value": "8080"}
        assert env["GREETING"]["value"] == "hi"
        assert env["API_KEY"] == {
            "name": "API_KEY",
            "valueFrom": {"secretKeyRef": {"name": "shop", "key": "API_KEY"}},
        }
        assert "CKV_K8S_35=" in deployment["metadata"]["annotations"]["checkov.io/skip2"]  # with its reason


def test_the_secret_holds_the_value_base64_and_no_other_file_does() -> None:
    files = render_all(_spec(), {"API_KEY": SECRET})
    [secret] = files[SECRET_FILE]
    assert (
        secret["kind"] == "Secret" and secret["metadata"]["name"] == secret["metadata"]["namespace"] == "shop"
    )
    assert base64.b64decode(secret["data"]["API_KEY"]).decode() == SECRET
    encoded = secret["data"]["API_KEY"]
    for name, objects in files.items():
        if name != SECRET_FILE:
            text = yaml.safe_dump_all(objects)
            assert SECRET not in text and encoded not in text, name


def test_a_pull_request_never_carries_the_secret(tmp_path: Path) -> None:
    for name, objects in render_all(_spec(), {"API_KEY": SECRET}).items():
        (tmp_path / "manifests" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "manifests" / name).write_text(yaml.safe_dump_all(objects))
    committed = K8orizeResult(report={}, out=tmp_path).text_outputs()  # type: ignore[typeddict-item]
    assert "manifests/30-deployment.yaml" in committed
    assert not [path for path in committed if "secret" in path]


def test_without_secrets_there_is_no_secret_and_no_skip() -> None:
    files = render_all(_spec(secret_env=()))
    assert SECRET_FILE not in files
    deployment = files["30-deployment.yaml"][0]
    assert "annotations" not in deployment["metadata"]


def test_the_image_env_carries_settings_never_secrets() -> None:
    spec = DockerfileSpec(
        uid=10001, port=8080, cmd=["python", "app.py"], health_url=None, env={"PORT": "8080"}
    )
    text = render(spec)
    assert 'ENV PORT="8080"' in text and "API_KEY" not in text
