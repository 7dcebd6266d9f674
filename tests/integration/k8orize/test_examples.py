"""Each example app k8orized end to end, as issue 11's "done when" asks: sandboxed install and trace, the
image built with buildah FROM the locally made base (tests cannot pull python:*-slim) and pushed to a
local registry, the manifests pinned by the digest the registry serves, the built image run under runc
(probes, the kind's session, SIGTERM, mount/ptrace refused, zero denials), and the judges clean. The
Flask example, the cheapest, also asks for gVisor (`--sandbox gvisor`): the same bundle runs under runsc.

Each example is k8orized once for the module, with the options its README gives
(`bench/k8orize/examples.py`, which the benchmark uses too); the tests read what a user would: the step
log, the report, the registry, the manifests and the image. Tests of one example share an xdist group
(`--dist loadgroup` keeps each example's k8orization on one worker). Timing targets live in
bench/k8orize, not here.
"""

from __future__ import annotations

import base64
import gzip
import json
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.k8orize.examples import Example, example
from clock import units
from k8orize import hardening, runtimes
from k8orize.distributions import installed
from k8orize.engine import K8orizeResult, k8orize
from k8orize.image import BuiltImage, ImageStore, remove_image
from k8orize.messages import SECRET_VALUE_HIDDEN
from k8orize.runtime_verify import KERNEL_OBSERVER
from k8orize.steps import STEPS
from testing.registry import LocalRegistry
from tests.support.report_shape import key_tree, recorded

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
STREAMLIT, FLASK, FASTAPI = (
    pytest.mark.xdist_group(f"k8orize-{n}") for n in ("streamlit", "flask", "fastapi")
)
RUNSC_STEP = "verify under runsc"  # only with --sandbox gvisor (the Flask example)


def _k8orized(
    tmp: pytest.TempPathFactory, app: Example, base: str, registry: LocalRegistry, sandbox: str | None = None
) -> Iterator[K8orizeResult]:
    out = tmp.mktemp(app.name) / "out"
    result = k8orize(
        app.request(out, base_image=base, push=f"{registry.host}/k8or/{app.name}", sandbox=sandbox)
    )
    yield result
    image = result.report["image"]
    if image["image_id"]:  # on vfs an image is a whole copy of every layer: keep none
        remove_image(BuiltImage(image["reference"] or "", image["image_id"], 0))


@pytest.fixture(scope="module")
def flask_app() -> Example:
    return example("flask-example")  # a SECRET_KEY made for this run: wherever it turns up, k8orize put it


@pytest.fixture(scope="module")
def streamlit(
    tmp_path_factory: pytest.TempPathFactory, base_image: str, registry: LocalRegistry
) -> Iterator[K8orizeResult]:
    yield from _k8orized(tmp_path_factory, example("streamlit-example"), base_image, registry)


@pytest.fixture(scope="module")
def flask(
    tmp_path_factory: pytest.TempPathFactory, base_image: str, registry: LocalRegistry, flask_app: Example
) -> Iterator[K8orizeResult]:
    yield from _k8orized(tmp_path_factory, flask_app, base_image, registry, sandbox="gvisor")


@pytest.fixture(scope="module")
def fastapi(
    tmp_path_factory: pytest.TempPathFactory, base_image: str, registry: LocalRegistry
) -> Iterator[K8orizeResult]:
    yield from _k8orized(tmp_path_factory, example("fastapi-example"), base_image, registry)


@pytest.fixture(
    params=[
        pytest.param("streamlit", marks=STREAMLIT),
        pytest.param("flask", marks=FLASK),
        pytest.param("fastapi", marks=FASTAPI),
    ]
)
def shipped(request: pytest.FixtureRequest) -> K8orizeResult:
    """Each example's k8orization (module-scoped), for the checks every example must pass."""
    result: K8orizeResult = request.getfixturevalue(request.param)
    return result


def _steps(result: K8orizeResult) -> dict[str, dict[str, Any]]:
    return {s["step"]: dict(s) for s in result.report["steps"]}


def _deployment(result: K8orizeResult) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((result.out / "manifests" / "30-deployment.yaml").read_text())
    return loaded


def _container(result: K8orizeResult) -> dict[str, Any]:
    [container] = _deployment(result)["spec"]["template"]["spec"]["containers"]
    return dict(container)


def _runtime_check(result: K8orizeResult, runtime: str) -> dict[str, Any]:
    checks = {c["runtime"]: dict(c) for c in result.report["runtime_verification"]}
    assert runtime in checks, result.report["steps"]
    return checks[runtime]


# --- what every example must pass --------------------------------------------------------------------


def test_every_step_passes_with_the_app_sandboxed(shipped: K8orizeResult) -> None:
    steps = _steps(shipped)
    gvisor = shipped.report["app"]["name"] == "flask-example"
    expected = [step for step in STEPS if step != RUNSC_STEP or gvisor]
    assert {name: steps[name]["status"] for name in expected} == dict.fromkeys(expected, "ok"), steps
    assert "in the sandbox" in steps["install"]["detail"]
    verification = shipped.report["verification"]
    assert verification["trimmed"]["passed"] and verification["enforced"]["run"]["passed"]
    assert verification["enforced"]["denials"] == 0 and verification["enforced"]["run"]["stopped_by_sigterm"]
    assert shipped.report["checks_failed"] == []
    assert shipped.report["seccomp"]["allowed_count"] <= 120
    assert shipped.picture.is_file()  # the step log, drawn for chat


def test_the_manifests_pin_the_digest_the_registry_serves(
    shipped: K8orizeResult, registry: LocalRegistry
) -> None:
    pushed = shipped.report["image"]["pushed"]
    assert pushed is not None
    repository, tag = pushed["destination"].split("/", 1)[1].rsplit(":", 1)
    served = registry.manifest_digest(repository, tag)  # what a kubelet pulling the tag gets
    assert served == pushed["digest"] and registry.has_manifest(repository, served)
    images = {
        c["image"]
        for path in (shipped.out / "manifests").rglob("*.yaml")
        for obj in yaml.safe_load_all(path.read_text())
        if obj and obj.get("kind") in ("Deployment", "StatefulSet", "Job", "CronJob")
        for c in obj["spec"]["template"]["spec"]["containers"]
    }
    assert images == {f"{registry.host}/{repository}@{served}"}
    assert not any("digest" in item for item in shipped.report["not_verified"])


def test_the_built_image_passes_under_runc_with_zero_denials(shipped: K8orizeResult) -> None:
    check = _runtime_check(shipped, "runc")
    assert check["passed"] and check["problems"] == [], check["problems"]
    assert check["version"] == runtimes.describe_version(runtimes.version_text(shutil.which("runc") or ""))
    assert check["denials"] == 0 and check["denials_observed_by"] == KERNEL_OBSERVER
    run = check["shipped"]["run"]
    port = shipped.report["app"]["port"]
    assert run["probes"] and all(
        p["ok"] and p["url"].startswith(f"http://192.0.2.10:{port}/") for p in run["probes"]
    )
    if not shipped.report["trace"]["session_driver"].startswith("none"):  # the kind's session, from a sidecar
        assert run["session"]["ok"] and check["audit"]["run"]["session"]["ok"]
    assert run["stopped_by_sigterm"] and run["exit_code"] == 0 and check["audit"]["run"]["passed"]
    for call in ("mount", "ptrace"):
        assert check["refusals"][call] == {"refused": True, "errno": 1, "in_profile": False}


def test_the_judges_find_nothing(shipped: K8orizeResult) -> None:
    checks = shipped.report["checks"]
    assert set(checks) == {"kubernetes-validate", "checkov", "hadolint"}
    assert all(c["ran"] and c["passed"] for c in checks.values()), checks
    assert "2 Dockerfiles" in checks["hadolint"]["detail"] and "failed 0" in checks["checkov"]["detail"]


def test_the_image_is_smaller_than_the_naive_one(shipped: K8orizeResult, base_image: str) -> None:
    image = shipped.report["image"]
    assert image["base_image"] == base_image and image["base_digest"]
    naive = image["naive"]
    assert naive["built"] and naive["size_bytes"] and image["size_bytes"], naive["why_not"]
    assert image["size_bytes"] < naive["size_bytes"]
    assert "pip install --no-cache-dir -r requirements.txt" in (naive["dockerfile"] or "")
    mb = f"{units.size(image['size_bytes'])} vs {units.size(naive['size_bytes'])} naive"
    assert f"Whole image: {mb}" in shipped.summary()


def test_the_image_runs_as_the_dockerfile_says_and_nothing_is_left_over(shipped: K8orizeResult) -> None:
    """Docker's format keeps HEALTHCHECK; USER, WORKDIR and CMD are the Dockerfile's; the root filesystem
    lent to the runtimes went back (no working container of the image is left in the store)."""
    image_id = shipped.report["image"]["image_id"] or ""
    buildah = ["buildah", *ImageStore().args()]
    info = json.loads(_run(*buildah, "inspect", "--type", "image", image_id))
    config = info["Docker"]["config"]
    uid = hardening.app_uid(shipped.report["app"]["name"])
    assert config["User"] == f"{uid}:{uid}" and config["WorkingDir"] == "/opt/k8or/app"
    cmd = f"CMD {json.dumps(config['Cmd'])}"
    assert cmd in (shipped.out / "Dockerfile").read_text().splitlines()
    assert config["Healthcheck"]["Test"][0] == "CMD"
    containers = json.loads(_run(*buildah, "containers", "--all", "--json") or "null") or []
    assert not [c for c in containers if image_id.startswith(c.get("imageid", "-"))]


def _run(*cmd: str, timeout: float = 120) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=timeout).stdout.strip()


# --- Streamlit: a real session, a trimmed tree ---------------------------------------------------------


@STREAMLIT
def test_streamlit_trace_ran_a_real_session(streamlit: K8orizeResult) -> None:
    trace = streamlit.report["trace"]
    assert trace["session_driver"] == "streamlit-websocket"
    session = trace["run"]["session"]
    assert session["ok"] and session["messages"]["delta"] >= 3
    assert session["script_runs"] == 2 and session["interacted_with"] == ["slider"]  # a user moved the slider
    assert "/app.py" in (streamlit.out / "trace" / "files-opened.txt").read_text()  # the script itself ran
    log = (streamlit.out / "runs" / "trimmed.log").read_text()
    assert '{"event": "page_rendered", "samples": 8' in log  # structured logs, as the app writes them
    assert '{"event": "page_rendered", "samples": 1' in log  # the rerun after the slider moved
    trimmed = streamlit.report["verification"]["trimmed"]
    assert trimmed["session"]["ok"] and streamlit.report["verification"]["enforced"]["run"]["session"]["ok"]
    assert any(p["url"].endswith("/_stcore/metrics") and p["ok"] for p in trimmed["probes"])
    annotations = _deployment(streamlit)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"


@STREAMLIT
def test_streamlit_traced_report_keeps_the_recorded_key_tree(streamlit: K8orizeResult) -> None:
    """The review surface of report.json's format, image and runc verification included
    (tests/support/data/report_shape_traced.json; re-recording: tests/support/report_shape.py)."""
    assert json.dumps(key_tree(streamlit.report)) == json.dumps(recorded("report_shape_traced"))


@STREAMLIT
def test_streamlit_safe_trim_keeps_every_requirement_and_reports_the_traced_level(
    streamlit: K8orizeResult,
) -> None:
    """--trim safe (the default): the unused declared dependency goes, streamlit's requirements stay
    (pip check passes on the trimmed tree), every traced module imports again from it, and the report
    says what --trim traced would give: at least 70% smaller, without pandas and pyarrow."""
    report = streamlit.report
    assert report["dependencies"]["unused"] == ["tabulate"] and report["dependencies"]["missing"] == []
    trim = report["trim"]
    assert trim is not None and trim["level"] == "safe"
    assert trim["closure_check"]["passed"] and trim["closure_check"]["problems"] == []
    assert trim["reimport"]["failed_after_trim"] == {} and trim["reimport"]["error"] is None
    assert trim["reimport"]["modules"] > 100
    sizes = report["sizes"]
    assert "tabulate" in sizes["dropped_distributions"]
    assert {"streamlit", "pandas", "pyarrow"} <= set(sizes["kept_distributions"])
    assert trim["levels"]["safe"]["reduction_percent"] == sizes["reduction_percent"] > 0
    assert trim["levels"]["traced"]["reduction_percent"] >= 70
    untraced = {u["name"]: u["required_by"] for u in trim["untraced_requirements"]}
    assert untraced["pyarrow"] == "streamlit" and "pandas" in untraced
    site = streamlit.out / "image" / "site-packages"
    assert not list(site.glob("tabulate*")) and not list(site.rglob("__pycache__"))
    assert not list(site.rglob("*.pyi")) and not (site / "pandas" / "tests").exists()
    assert (
        "every requirement of the trimmed site-packages is installed (pip check)" in report["checks_passed"]
    )


# --- Flask: the port from the environment, a secret that ships only in the Secret, gVisor ---------------


@FLASK
def test_flask_probes_pass_on_a_free_port_given_through_the_environment(flask: K8orizeResult) -> None:
    started = (flask.out / "runs" / "traced.log").read_text()
    port = int(started.split('{"event": "start", "port": ', 1)[1].split("}", 1)[0])
    probed = flask.report["trace"]["run"]["probes"][0]["url"]
    assert probed == f"http://127.0.0.1:{port}/health" and port != 8080  # {port} reached the app


@FLASK
def test_flask_ships_port_and_settings_in_the_deployment_and_the_image(flask: K8orizeResult) -> None:
    container = _container(flask)
    env = {e["name"]: e for e in container["env"]}
    assert env["PORT"] == {"name": "PORT", "value": "8080"} and env["GREETING"]["value"] == "hi"
    assert container["ports"][0]["containerPort"] == 8080
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": 8080}
    dockerfile = (flask.out / "Dockerfile").read_text().splitlines()
    assert 'ENV PORT="8080"' in dockerfile and 'CMD ["python", "app.py"]' in dockerfile


@FLASK
def test_flask_secret_ships_only_in_the_secret(flask: K8orizeResult, flask_app: Example) -> None:
    session_key = flask_app.env["SECRET_KEY"]
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
    assert not [path for path in flask.text_outputs() if path.startswith("manifests/secret")]
    # The runtimes read the Secret as the kubelet would; the bundle they keep in OUT leaves its value out.
    for runtime in ("runc", "runsc"):
        assert _runtime_check(flask, runtime)["passed"]
        config = json.loads((flask.out / "runs" / f"{runtime}-config.json").read_text())
        assert f"SECRET_KEY={SECRET_VALUE_HIDDEN}" in config["process"]["env"]


@FLASK
def test_flask_runs_under_runsc_from_the_same_bundle(flask: K8orizeResult) -> None:
    check = _runtime_check(flask, "runsc")
    assert check["passed"] and check["shipped"]["run"]["stopped_by_sigterm"], check["problems"]
    assert check["denials"] == 0 and "gVisor" in (check["denials_observed_by"] or "")
    assert check["refusals"]["ptrace"]["refused"] and check["refusals"]["mount"]["refused"]
    runc_config = json.loads((flask.out / "runs" / "runc-config.json").read_text())
    runsc_config = json.loads((flask.out / "runs" / "runsc-config.json").read_text())
    assert runsc_config == runc_config  # the same bundle
    assert _deployment(flask)["spec"]["template"]["spec"]["runtimeClassName"] == "gvisor"


@FLASK
def test_flask_safe_trim_strips_sqlalchemy_and_the_service_still_runs(flask: K8orizeResult) -> None:
    """Safe mode keeps every requirement; what it removes is what no import reads, above all the debug
    symbols SQLAlchemy's compiled extensions ship with. The stripped tree serves under Waitress."""
    trim = flask.report["trim"]
    assert trim is not None and trim["level"] == "safe" and trim["closure_check"]["passed"]
    assert trim["reimport"]["failed_after_trim"] == {}
    removed = trim["levels"]["safe"]["removed_by_category"]
    assert removed["debug symbols (strip --strip-unneeded)"] > 5_000_000 and removed["Cython sources"] > 0
    assert flask.report["sizes"]["dropped_distributions"] == []  # all four pins are used, none dropped
    for run in ("trimmed", "enforced"):
        log = (flask.out / "runs" / f"{run}.log").read_text()
        assert "Serving on http://0.0.0.0:" in log and '"event": "index"' in log, run
    extensions = sorted((flask.out / "image" / "site-packages" / "sqlalchemy").rglob("*.so"))
    assert extensions and not [e.name for e in extensions if b".debug_info" in e.read_bytes()]


def _keep_list(result: K8orizeResult) -> list[str]:
    text = (result.out / "repository" / "keep-list.txt").read_text()
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _pins(site: Path) -> list[str]:
    return [f"{d.name}=={d.version}" for _, d in sorted(installed(site).items())]


@FLASK
def test_flask_pull_request_builds_in_the_repositorys_ci(
    flask: K8orizeResult, flask_app: Example, base_image: str, tmp_path: Path
) -> None:
    """The app's folder as the pull request leaves it (its files plus what the PR commits under k8or/,
    no image/), built as a CI would: the image holds exactly the verified distributions and files."""
    pins = _keep_list(flask)
    assert pins == _pins(flask.out / "image" / "site-packages")
    assert {"Flask==3.1.3", "Flask-SQLAlchemy==3.1.1", "SQLAlchemy==2.1.9", "waitress==3.0.2"} <= set(pins)
    context = tmp_path / "flask-app"
    shutil.copytree(flask_app.folder, context)
    for path, text in flask.text_outputs().items():
        (context / "k8or" / path).parent.mkdir(parents=True, exist_ok=True)
        (context / "k8or" / path).write_text(text)
    tag = f"localhost/k8or/test-pull-request:{secrets.token_hex(4)}"
    buildah = ["buildah", "--storage-driver", "vfs"]
    build = [*buildah, "bud", "--isolation", "chroot", "--format", "docker", "--pull=never"]
    build += ["-f", "k8or/repository/Dockerfile", "--build-arg", f"BASE_IMAGE={base_image}", "-t", tag]
    container = ""
    try:
        _run(*build, str(context), timeout=600)
        container = _run(*buildah, "from", "--pull=never", "--quiet", tag)
        root = Path(_run(*buildah, "mount", container)) / "opt" / "k8or"
        assert _pins(root / "site-packages") == pins
        assert sorted(p.relative_to(root / "app").as_posix() for p in (root / "app").rglob("*")) == ["app.py"]
    finally:
        if container:
            subprocess.run([*buildah, "rm", container], capture_output=True)
        subprocess.run([*buildah, "rmi", "-f", tag], capture_output=True)


# --- FastAPI: the port on the command line, threads that come and go -----------------------------------


@FASTAPI
def test_fastapi_listens_on_its_port_and_ships_no_secret(fastapi: K8orizeResult) -> None:
    container = _container(fastapi)
    assert container["ports"][0]["containerPort"] == 8000
    assert container["startupProbe"]["httpGet"] == {"path": "/health", "port": 8000}
    cmd = 'CMD ["python", "-m", "uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]'
    assert cmd in (fastapi.out / "Dockerfile").read_text().splitlines()
    pins = _keep_list(fastapi)
    assert pins == _pins(fastapi.out / "image" / "site-packages")
    assert {"fastapi==0.165.0", "uvicorn==0.54.0"} <= set(pins)
    assert not (fastapi.out / "manifests" / "secret").exists()  # no --env secrets, no Secret


@FASTAPI
def test_fastapi_profile_allows_what_glibc_does_as_worker_threads_retire(fastapi: K8orizeResult) -> None:
    """Its sync routes run in a thread pool; a retiring thread's stack goes back with madvise, whether or
    not the traced run lived long enough to see it (under runc one did: issue 11)."""
    traced = fastapi.report["trace"]["syscall_counts"]
    assert "clone3" in traced or "clone" in traced  # it starts threads
    assert "madvise" in fastapi.report["seccomp"]["allowed"]
