"""The Flask and FastAPI examples k8orized with tracing, end to end with the engine as it is.

Flask reads its port from `PORT` (`--env PORT={port}`) and its session key from `SECRET_KEY`, which ships
only in the app's Secret. FastAPI takes its port on the command line (`--port {port}`). Each is run once
per module; the assertions read what a user would: the step log, the manifests, the Dockerfiles, and the
files a pull request commits, which buildah builds as the repository's CI would (FROM the locally made
python base: tests cannot pull python:*-slim). Timing targets live in bench/k8orize, not here.
"""

from __future__ import annotations

import base64
import gzip
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from k8orize.distributions import installed
from k8orize.engine import K8orizeResult, k8orize
from k8orize.request import K8orizeRequest
from tests.support.k8orize import REPO

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
FLASK, FASTAPI = REPO / "examples" / "flask-app", REPO / "examples" / "fastapi-app"
VERIFIED_STEPS = ("analyze", "install", "trace", "trim", "seccomp", "verify trimmed", "verify enforced")


@pytest.fixture(scope="module")
def session_key() -> str:
    return secrets.token_hex(24)  # made for this run: it can only turn up where the engine put it


@pytest.fixture(scope="module")
def flask(tmp_path_factory: pytest.TempPathFactory, session_key: str) -> K8orizeResult:
    return k8orize(
        K8orizeRequest(
            app_dir=FLASK,
            out=tmp_path_factory.mktemp("flask") / "out",
            name="flask-example",
            port=8080,
            run="python app.py",
            env={"PORT": "{port}", "SECRET_KEY": session_key, "GREETING": "hi"},
            probes=("http://127.0.0.1:{port}/health", "http://127.0.0.1:{port}/"),
        )
    )


@pytest.fixture(scope="module")
def fastapi(tmp_path_factory: pytest.TempPathFactory) -> K8orizeResult:
    return k8orize(
        K8orizeRequest(
            app_dir=FASTAPI,
            out=tmp_path_factory.mktemp("fastapi") / "out",
            name="fastapi-example",
            port=8000,
            run="python -m uvicorn main:app --host 0.0.0.0 --port {port}",
            probes=("http://127.0.0.1:{port}/health", "http://127.0.0.1:{port}/"),
        )
    )


def _steps(result: K8orizeResult) -> dict[str, str]:
    return {s["step"]: s["status"] for s in result.report["steps"]}


def _deployment(result: K8orizeResult) -> dict:
    return yaml.safe_load((result.out / "manifests" / "30-deployment.yaml").read_text())


def _container(result: K8orizeResult) -> dict:
    return _deployment(result)["spec"]["template"]["spec"]["containers"][0]


def _judged(result: K8orizeResult) -> None:
    """hadolint (both Dockerfiles) and kubernetes-validate clean; checkov's only finding, if any, is the
    digest no one gave (CKV_K8S_43), and the report says so."""
    checks = result.report["checks"]
    assert checks["hadolint"]["passed"] and "2 Dockerfiles" in checks["hadolint"]["detail"]
    assert checks["kubernetes-validate"]["passed"]
    checkov = checks["checkov"]
    assert checkov["ran"]
    if not checkov["passed"]:
        failed = checkov["detail"].split(": ", 1)[1].split(", ")
        assert all(f.startswith("CKV_K8S_43 ") for f in failed), failed
        assert any("digest" in item for item in result.report["not_verified"])


def _verified(result: K8orizeResult) -> None:
    steps = _steps(result)
    assert all(steps[s] == "ok" for s in VERIFIED_STEPS), result.report["steps"]
    verification = result.report["verification"]
    assert verification["trimmed"]["passed"]
    assert verification["enforced"]["run"]["passed"] and verification["enforced"]["denials"] == 0


def _keep_list(result: K8orizeResult) -> list[str]:
    text = (result.out / "repository" / "keep-list.txt").read_text()
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _pins(site: Path) -> list[str]:
    return [f"{d.name}=={d.version}" for _, d in sorted(installed(site).items())]


# --- Flask: the port from the environment, a secret that ships only in the Secret --------------------


def test_flask_probes_pass_on_a_free_port_given_through_the_environment(flask: K8orizeResult) -> None:
    _verified(flask)
    started = (flask.out / "runs" / "traced.log").read_text()
    port = int(started.split('{"event": "start", "port": ', 1)[1].split("}", 1)[0])
    probed = flask.report["trace"]["run"]["probes"][0]["url"]
    assert probed == f"http://127.0.0.1:{port}/health" and port != 8080  # {port} reached the app


def test_flask_ships_port_and_settings_in_the_deployment_and_the_image(flask: K8orizeResult) -> None:
    container = _container(flask)
    env = {e["name"]: e for e in container["env"]}
    assert env["PORT"] == {"name": "PORT", "value": "8080"} and env["GREETING"]["value"] == "hi"
    assert container["ports"][0]["containerPort"] == 8080
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": 8080}
    dockerfile = (flask.out / "Dockerfile").read_text().splitlines()
    assert 'ENV PORT="8080"' in dockerfile and 'CMD ["python", "app.py"]' in dockerfile
    _judged(flask)


def test_flask_secret_ships_only_in_the_secret(flask: K8orizeResult, session_key: str) -> None:
    env = {e["name"]: e for e in _container(flask)["env"]}
    assert env["SECRET_KEY"] == {
        "name": "SECRET_KEY",
        "valueFrom": {"secretKeyRef": {"name": "flask-example", "key": "SECRET_KEY"}},
    }
    secret_file = flask.out / "manifests" / "secret" / "25-secret.yaml"
    secret = yaml.safe_load(secret_file.read_text())
    assert secret["kind"] == "Secret" and secret["metadata"]["name"] == "flask-example"
    encoded = secret["data"]["SECRET_KEY"]
    assert base64.b64decode(encoded).decode() == session_key
    needles = (session_key.encode(), encoded.encode())
    for path in flask.out.rglob("*"):  # every file: Dockerfiles, report, summary, logs, trace, image/
        if path.is_file() and path != secret_file:
            data = path.read_bytes()
            data += gzip.decompress(data) if path.suffix == ".gz" else b""
            assert not any(needle in data for needle in needles), path
    assert session_key not in flask.summary()
    assert not any(session_key in text or encoded in text for text in flask.text_outputs().values())
    assert not [path for path in flask.text_outputs() if path.startswith("manifests/secret")]


def _buildah(*args: str, timeout: float = 120) -> str:
    cmd = ["buildah", "--storage-driver", "vfs", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=timeout).stdout.strip()


def test_flask_pull_request_builds_in_the_repositorys_ci(
    flask: K8orizeResult, base_image: str, tmp_path: Path
) -> None:
    """The app's folder as the pull request leaves it (its files plus what the PR commits under k8or/,
    no image/), built as a CI would: the image holds exactly the verified distributions and files."""
    pins = _keep_list(flask)
    assert pins == _pins(flask.out / "image" / "site-packages") and "Flask==3.1.3" in pins
    context = tmp_path / "flask-app"
    shutil.copytree(FLASK, context)
    for path, text in flask.text_outputs().items():
        (context / "k8or" / path).parent.mkdir(parents=True, exist_ok=True)
        (context / "k8or" / path).write_text(text)
    tag = f"localhost/k8or/test-pull-request:{secrets.token_hex(4)}"
    build = ["bud", "--isolation", "chroot", "--format", "docker", "--pull=never"]
    build += ["-f", "k8or/repository/Dockerfile", "--build-arg", f"BASE_IMAGE={base_image}", "-t", tag]
    container = ""
    try:
        _buildah(*build, str(context), timeout=600)
        container = _buildah("from", "--pull=never", "--quiet", tag)
        root = Path(_buildah("mount", container)) / "opt" / "k8or"
        assert _pins(root / "site-packages") == pins
        assert sorted(p.relative_to(root / "app").as_posix() for p in (root / "app").rglob("*")) == ["app.py"]
    finally:
        if container:
            subprocess.run(["buildah", "--storage-driver", "vfs", "rm", container], capture_output=True)
        subprocess.run(["buildah", "--storage-driver", "vfs", "rmi", "-f", tag], capture_output=True)


# --- FastAPI: the port on the command line ----------------------------------------------------------


def test_fastapi_probes_pass_and_the_image_listens_on_its_port(fastapi: K8orizeResult) -> None:
    _verified(fastapi)
    container = _container(fastapi)
    assert container["ports"][0]["containerPort"] == 8000
    assert container["startupProbe"]["httpGet"] == {"path": "/health", "port": 8000}
    cmd = 'CMD ["python", "-m", "uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]'
    assert cmd in (fastapi.out / "Dockerfile").read_text().splitlines()
    pins = _keep_list(fastapi)
    assert pins == _pins(fastapi.out / "image" / "site-packages")
    assert {"fastapi==0.165.0", "uvicorn==0.54.0"} <= set(pins) and any(
        p.startswith("starlette==") for p in pins
    )
    assert "manifests/secret" not in str(list(fastapi.out.rglob("*")))  # no --env secrets, no Secret
    _judged(fastapi)
