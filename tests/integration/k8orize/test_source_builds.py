"""A dependency with no wheel: fetched from the package index as data, built only inside the sandbox.

A local index (testing/package_index.py, PEP 503/691 on port 0) serves two hand-made sdists and a
wheel: `hostile-dep` requires `helper-lib`, which requires `leaf-wheel`. Both sdists build with an
in-tree backend that hunts for the bot's secrets (tests/support/data/hostile-app/hunt.py: the
environment, /proc, the data folder, the host's /tmp, a loopback socket of the bot's), tries to leave
a marker in the host's /tmp and in the test's folder, and bakes what it found into the module it builds.
pip on the host would run that backend to learn the sdist's dependencies; k8orize must not.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from k8orize import hardening, sandbox
from k8orize.errors import InstallFailed
from k8orize.install import AppVenv, install_sandboxed
from k8orize.requirements import AppRequirements, requirements_file
from k8orize.sandbox import SandboxHost, SandboxLimits, View
from testing.package_index import Dist, LocalIndex, local_index, sdist, wheel
from tests.support.hostile import HOSTILE_APP, Planted, planted

UID = hardening.app_uid("source-build-test")

BACKEND = '''
"""Builds the wheel build.json describes, by hand, after hunting for the host's secrets."""
import base64, hashlib, json, os, zipfile

from hunt import _targets, hunt

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = json.load(open(os.path.join(HERE, "build.json")))


def _hash(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    loot = hunt("sdist-backend")
    for path in _targets().get("markers", []):
        try:
            with open(path, "w") as handle:
                handle.write("the sdist's build backend ran here")
        except OSError as exc:
            print(f"marker {path}: {exc}", flush=True)
    name, version, module = SPEC["name"], SPEC["version"], SPEC["module"]
    info = f"{module}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n"
    metadata += "".join(f"Requires-Dist: {r}\\n" for r in SPEC["requires"])
    files = {
        f"{module}.py": f"BUILD_LOOT = {loot!r}\\nGREETING = {SPEC['greeting']!r}\\n".encode(),
        f"{info}/METADATA": metadata.encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: x\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = "".join(f"{p},sha256={_hash(d)},{len(d)}\\n" for p, d in files.items()) + f"{info}/RECORD,,\\n"
    filename = f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
        archive.writestr(f"{info}/RECORD", record)
    return filename


def build_sdist(sdist_directory, config_settings=None):
    raise NotImplementedError
'''
PYPROJECT = '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'


def _hostile_sdist(name: str, greeting: str, requires: list[str], targets: dict[str, object]) -> Dist:
    module = name.replace("-", "_")
    spec = {"name": name, "version": "1.0", "module": module, "requires": requires, "greeting": greeting}
    files = {
        "backend.py": BACKEND,
        "hunt.py": (HOSTILE_APP / "hunt.py").read_text(),
        "targets.json": json.dumps(targets),
        "build.json": json.dumps(spec),
    }
    return sdist(name, "1.0", files, PYPROJECT)


@pytest.fixture
def host(tmp_path: Path) -> Iterator[SandboxHost]:
    if sandbox.unavailable_reason():
        pytest.fail(
            f"bubblewrap cannot run here: {sandbox.unavailable_reason()} (see scripts/system-packages)"
        )
    (tmp_path / "scratch").mkdir()
    box = SandboxHost(UID, SandboxLimits(), tmp_path / "scratch")
    yield box
    box.close()


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalIndex]:
    """The only index pip and k8orize know of: no pip.conf, no other PIP_* setting of this machine."""
    for key in [k for k in os.environ if k.startswith("PIP_")]:
        monkeypatch.delenv(key)
    with local_index() as served:
        monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
        monkeypatch.setenv("PIP_INDEX_URL", served.url)
        monkeypatch.setenv("PIP_CACHE_DIR", tempfile.mkdtemp(prefix="k8or-pip-cache-"))
        yield served
        shutil.rmtree(os.environ["PIP_CACHE_DIR"], ignore_errors=True)


@pytest.fixture
def secrets_(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Planted]:
    with planted(monkeypatch, tmp_path / "data") as found:
        yield found


def _run_in_sandbox(host: SandboxHost, venv: AppVenv, code: str, log: Path) -> str:
    assert host.run([str(venv.python), "-c", code], View(readonly=(venv.root,)), log, 60) == 0, (
        log.read_text()
    )
    return log.read_text()


def test_an_sdist_only_dependency_is_built_in_the_sandbox_and_the_app_runs_with_it(
    host: SandboxHost, index: LocalIndex, secrets_: Planted, tmp_path: Path
) -> None:
    host_marker = tmp_path / "built-on-the-host"
    tmp_marker = Path(tempfile.gettempdir()) / f"k8or-sdist-marker-{secrets.token_hex(6)}"
    targets = {**secrets_.targets(), "markers": [str(host_marker), str(tmp_marker)]}
    index.add(_hostile_sdist("hostile-dep", "hello from an sdist", ["helper-lib>=1"], targets))
    index.add(_hostile_sdist("helper-lib", "helper", ["leaf-wheel==2.0"], targets))
    index.add(wheel("leaf-wheel", "2.0", {"leaf_wheel.py": "LEAF = 'leaf'\n"}))
    before = set(secrets_.loot_files())
    log = tmp_path / "install.log"

    venv = install_sandboxed(host, AppRequirements(tuple(requirements_file("hostile-dep\n"))), tmp_path, log)
    secrets_.sink.close()

    text = log.read_text()
    # Both backends ran, in the sandbox (their output is in the log), and found no way out.
    assert text.count("hunt sdist-backend: the sink is out of reach") == 2
    assert f"marker {host_marker}: [Errno 2] No such file or directory" in text  # no such folder there
    assert not host_marker.exists() and not tmp_marker.exists()
    assert "# hostile-dep: no wheel; fetched hostile_dep-1.0.tar.gz (sha256 " in text
    assert "# built helper_lib-1.0-py3-none-any.whl in the sandbox; it requires leaf-wheel==2.0" in text
    assert sorted(index.fetched) == [
        "helper_lib-1.0.tar.gz",
        "hostile_dep-1.0.tar.gz",
        "leaf_wheel-2.0-py3-none-any.whl",
    ]
    assert index.pages and set(index.pages) == {"application/vnd.pypi.simple.v1+json"}
    ran = _run_in_sandbox(
        host,
        venv,
        "import hostile_dep, helper_lib, leaf_wheel; print(hostile_dep.GREETING, leaf_wheel.LEAF);"
        "print(hostile_dep.BUILD_LOOT, helper_lib.BUILD_LOOT)",
        tmp_path / "run.log",
    )
    assert "hello from an sdist leaf" in ran
    assert secrets_.leaks([text, ran, bytes(secrets_.sink.received)]) == []
    assert secrets_.sink.received == b"" and set(secrets_.loot_files()) == before


def test_an_sdist_whose_hash_does_not_match_the_index_is_refused(
    host: SandboxHost, index: LocalIndex, tmp_path: Path
) -> None:
    marker = tmp_path / "built-on-the-host"
    tampered = _hostile_sdist("tampered", "never", [], {"sink": None, "files": [], "markers": [str(marker)]})
    index.add(tampered, listed_sha256="0" * 64)
    log = tmp_path / "install.log"
    wanted = AppRequirements(tuple(requirements_file("tampered==1.0\n")))
    with pytest.raises(InstallFailed) as refused:
        install_sandboxed(host, wanted, tmp_path, log)
    message = str(refused.value)
    assert message.startswith("tampered-1.0.tar.gz from http://127.0.0.1:")
    assert f"does not match the sha256 the index gives for it (expected {'0' * 64}, got " in message
    assert "nothing of it was built" in message
    assert "[sandbox]" not in log.read_text() and "hunt" not in log.read_text()
    assert not list(host.area.rglob("*.tar.gz")) and not marker.exists()


def test_hash_pinned_requirements_build_nothing_from_source(
    host: SandboxHost, index: LocalIndex, tmp_path: Path
) -> None:
    pinned = _hostile_sdist("pinned", "never", [], {"sink": None, "files": []})
    index.add(pinned)
    line = f"pinned==1.0 --hash=sha256:{hashlib.sha256(pinned.content).hexdigest()}\n"
    with pytest.raises(InstallFailed) as refused:
        install_sandboxed(host, AppRequirements(tuple(requirements_file(line))), tmp_path, tmp_path / "log")
    assert str(refused.value).startswith("pinned==1.0 has no wheel for this platform. With --hash pins")
    assert "[sandbox]" not in (tmp_path / "log").read_text() and index.fetched == []


def test_a_dependency_on_no_index_at_all_says_so(
    host: SandboxHost, index: LocalIndex, tmp_path: Path
) -> None:
    log = tmp_path / "install.log"
    with pytest.raises(InstallFailed, match="no wheel for this platform and no .tar.gz sdist"):
        install_sandboxed(host, AppRequirements(tuple(requirements_file("absent-project\n"))), tmp_path, log)


def test_pip_on_the_host_would_have_run_the_backend(
    index: LocalIndex, secrets_: Planted, tmp_path: Path
) -> None:
    """The control: pip's own download of an sdist runs its build backend on the host, with the bot's
    environment; that is what the sandboxed download avoids."""
    host_marker = tmp_path / "built-on-the-host"
    targets = {**secrets_.targets(), "markers": [str(host_marker)]}
    index.add(_hostile_sdist("hostile-dep", "x", [], targets))
    run = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(tmp_path / "dl"), "hostile-dep"],
        capture_output=True,
        timeout=120,
    )
    secrets_.sink.close()
    assert host_marker.exists(), run.stderr.decode()
    assert "environment" in secrets_.leaks([bytes(secrets_.sink.received)])
