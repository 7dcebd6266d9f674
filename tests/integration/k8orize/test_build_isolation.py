"""A build's RUN steps run code k8or did not write (an sdist's build backend, `pip install`, the import
check). Built through k8orize/image.py, they run as root in a user namespace of their own, which is an
unused UID outside (build_isolation.BUILD_IDS), within the build's limits, and with no network when
the build needs none. A RUN step here tries what a hostile build backend would and writes down what it
got; the folders it writes into are the test's own, bind-mounted from the build context, so their
owners on the host show who the build really was. The same step built as the engine built it before
(root, no user namespace) is the control: it shows the hunt would have noticed host root.
"""

from __future__ import annotations

import json
import os
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from k8orize import build_isolation
from k8orize.build_isolation import BUILD_IDS, BuildLimits
from k8orize.image import build_image, remove_image

CANARY = "k8or-test-vault-key-canary"
LIMITS = BuildLimits(memory_bytes=256 * 2**20, processes=64)

HUNT = """
import json, os, socket, subprocess, sys

found = {"euid": os.geteuid(), "uid_map": open("/proc/self/uid_map").read().split()}
open("/mnt/made-by-build", "w").close()  # /mnt: a folder of the host anyone may write to
try:  # /srv: a folder of the host only its root may write to
    open("/srv/planted", "w").close()
    found["wrote_root_only_folder"] = True
except OSError:
    found["wrote_root_only_folder"] = False
environs = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        environs.append(open(f"/proc/{pid}/environ", "rb").read())
    except OSError:
        pass
found["processes_seen"] = len(environs)
found["canary_found"] = any(b"CANARY" in env for env in environs) or "CANARY" in str(os.environ)
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3).close()
    found["reached_host_loopback"] = True
except OSError:
    found["reached_host_loopback"] = False
children = []
try:
    for _ in range(200):
        children.append(subprocess.Popen(["sleep", "30"]))
except OSError:
    pass
found["processes_started"] = len(children)
for child in children:
    child.kill()
    child.wait()
hog = subprocess.run([sys.executable, "-c", "b = bytearray(512 * 2**20); print(len(b))"])
found["memory_hog_exit"] = hog.returncode
json.dump(found, open("/mnt/found.json", "w"))
""".replace("CANARY", CANARY)

DOCKERFILE = """\
ARG BASE_IMAGE=python:3-slim
FROM ${BASE_IMAGE}
ARG PORT=1
RUN --mount=type=bind,source=drop,target=/mnt,rw --mount=type=bind,source=root-only,target=/srv,rw \\
    python /mnt/hunt.py ${PORT}
"""


def _context(folder: Path) -> Path:
    (folder / "drop").mkdir(parents=True)
    (folder / "drop").chmod(0o777)
    (folder / "root-only").mkdir(mode=0o755)
    (folder / "drop" / "hunt.py").write_text(textwrap.dedent(HUNT))
    (folder / "Dockerfile").write_text(DOCKERFILE)
    return folder


@pytest.fixture(scope="module")
def host_listener() -> Iterator[int]:
    """A service of the bot's on the host's loopback (as the bot's own endpoints are)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def _hunt(folder: Path, base: str, port: int) -> tuple[dict[str, object], Path]:
    context = _context(folder)
    tag = f"localhost/k8or/test-hostile-build:{folder.name}"
    args = {"BASE_IMAGE": base, "PORT": str(port)}
    built = build_image(context, tag, log=folder / "build.log", build_args=args, network=False, limits=LIMITS)
    remove_image(built)
    return json.loads((context / "drop" / "found.json").read_text()), context


@pytest.fixture(scope="module")
def hunted(
    tmp_path_factory: pytest.TempPathFactory, base_image: str, host_listener: int
) -> tuple[dict[str, object], Path]:
    with pytest.MonkeyPatch.context() as patch:  # a secret in the bot's environment, as in production
        patch.setenv("K8OR_VAULT_KEY", CANARY)
        return _hunt(tmp_path_factory.mktemp("hostile-build"), base_image, host_listener)


def test_root_in_a_run_step_is_an_unprivileged_uid_of_the_host(
    hunted: tuple[dict[str, object], Path],
) -> None:
    found, context = hunted
    assert found["euid"] == 0  # root inside, as a Dockerfile's RUN expects...
    assert found["uid_map"] == ["0", str(BUILD_IDS.host), str(BUILD_IDS.size)]  # ...which is not root outside
    made = (context / "drop" / "made-by-build").stat()
    assert (made.st_uid, made.st_gid) == (BUILD_IDS.host, BUILD_IDS.host)
    assert found["wrote_root_only_folder"] is False
    assert not (context / "root-only" / "planted").exists()


def test_a_run_step_sees_none_of_the_bot_s_processes_secrets_or_loopback(
    hunted: tuple[dict[str, object], Path],
) -> None:
    found, _context = hunted
    assert found["canary_found"] is False
    assert isinstance(found["processes_seen"], int) and found["processes_seen"] < 10  # its own pid namespace
    assert found["reached_host_loopback"] is False  # a traced build gets no network at all


def test_a_run_step_is_held_to_the_build_s_limits(hunted: tuple[dict[str, object], Path]) -> None:
    found, _context = hunted
    started = found["processes_started"]
    assert isinstance(started, int) and 0 < started < LIMITS.processes  # the shell and python count too
    assert found["memory_hog_exit"] == -9  # the cgroup's OOM killer, at 256 MiB


def test_control_as_the_engine_built_before_the_hunt_finds_host_root(
    tmp_path: Path, base_image: str, host_listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the user namespace the same step is the host's root: its file is root's, and the folder
    only root may write to takes its plant. This is what the tests above rule out."""

    def as_before(network: bool, limits: BuildLimits = LIMITS) -> list[str]:
        return ["--isolation", "oci", *([] if network else ["--network", "none"])]

    monkeypatch.setattr(build_isolation, "run_step_options", as_before)
    found, context = _hunt(tmp_path, base_image, host_listener)
    assert found["uid_map"] == Path("/proc/self/uid_map").read_text().split()  # the host's own IDs
    assert os.stat(context / "drop" / "made-by-build").st_uid == 0
    assert found["wrote_root_only_folder"] is True and (context / "root-only" / "planted").exists()
