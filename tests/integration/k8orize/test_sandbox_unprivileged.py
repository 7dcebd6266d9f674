"""The sandbox when the engine is not root, as in k8or's own pod: bubblewrap then makes its namespaces
with an unprivileged user namespace, and the app's dedicated UID exists only inside it.

Run as root (this machine, CI), the engine's sandbox code runs in a child process as `nobody`, with a
secret in its environment as the bot has one; run as another user, it runs as that user. Either way
the spy (tests/support/data/sandbox_spy.py) must see the same small world it sees under a root engine.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from k8orize import hardening, messages
from k8orize.app_user import traversable
from k8orize.sandbox import SandboxLimits, base_python

REPO = Path(__file__).resolve().parents[3]
SPY = REPO / "tests" / "support" / "data" / "sandbox_spy.py"
NOBODY = 65534
UID = hardening.app_uid("unprivileged-sandbox-test")
SECRET = "k8or-unprivileged-engine-secret"

# What the unprivileged engine runs: its own sandbox code, nothing else of k8or.
ENGINE = """
import json, os, sys
from pathlib import Path
from k8orize import build_isolation, sandbox

why = sandbox.unavailable_reason()
if why:
    print(json.dumps({"unavailable": why}))
    raise SystemExit(0)
uid, scratch, spy, bot_pid, bot_port = sys.argv[1:]
host = sandbox.SandboxHost(int(uid), sandbox.SandboxLimits(), Path(scratch))
log = Path(scratch) / "spy.log"
view = sandbox.View(readonly=(Path(spy),))
code = host.run([sys.executable, "-I", "-S", spy, bot_pid, bot_port], view, log, 60)
found = {"as_root": host.as_root, "euid": os.geteuid(), "code": code, "log": log.read_text()}
print(json.dumps({**found, "build": build_isolation.run_steps_refusal()}))
"""


def _interpreter_for_nobody() -> str | None:
    """An interpreter nobody may run (the engine's own often lives under /root)."""
    on_path = [Path(d) / n for d in os.environ.get("PATH", "").split(":") for n in ("python3.11", "python3")]
    for candidate in [base_python(), *map(str, on_path), "/usr/bin/python3"]:
        if traversable(Path(candidate).resolve().parent) and os.access(candidate, os.X_OK):
            version = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info >= (3, 11))"],
                capture_output=True,
                text=True,
                user=NOBODY,
                check=False,
            )
            if version.stdout.strip() == "True":
                return candidate
    return None


def _engine_as_unprivileged(scratch: Path, port: int) -> dict[str, object]:
    args = [str(UID), str(scratch), str(SPY), str(os.getpid()), str(port)]
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(REPO), "K8OR_VAULT_KEY": SECRET}
    if os.geteuid() != 0:
        cmd, user = [sys.executable, "-c", ENGINE, *args], None
    else:
        python = _interpreter_for_nobody()
        if python is None or not traversable(REPO) or not traversable(SPY.parent):
            pytest.skip("no Python 3.11+ and checkout that the unprivileged user `nobody` can reach here")
        cmd, user = [python, "-c", ENGINE, *args], NOBODY
        os.chown(scratch, NOBODY, NOBODY)
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, user=user, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    result: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def unprivileged() -> dict[str, object]:
    """What the engine's sandbox code saw and said, run once as a user that is not root."""
    scratch = Path(tempfile.mkdtemp(prefix="k8or-unprivileged-"))
    scratch.chmod(0o755)
    try:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            result = _engine_as_unprivileged(scratch, listener.getsockname()[1])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if "unavailable" in result:
        pytest.skip(f"unprivileged user namespaces are not available here: {result['unavailable']}")
    return result


def test_the_sandbox_holds_when_the_engine_is_not_root(unprivileged: dict[str, object]) -> None:
    result = unprivileged
    assert result["as_root"] is False and result["euid"] != 0
    assert result["code"] == 0, result["log"]
    log = str(result["log"])
    seen = json.loads(log.strip().splitlines()[-1])
    assert seen["ids"] == [UID, UID, UID] and seen["caps"] == "0000000000000000"
    assert seen["env"] == ["HOME", "LANG", "PATH", "PWD", "TMPDIR"] and SECRET not in log
    assert seen["pids"] == [1, seen["pid"]] and not seen["bot_proc"]
    assert seen["bot_listener"] == "ConnectionRefusedError"
    assert seen["internet"] == "OSError" and seen["dns"] == "gaierror"
    assert seen["write_usr"] == "OSError" and seen["write_tmp"] == "allowed"
    assert not seen["userns"]
    limits = SandboxLimits()
    assert seen["limits"]["RLIMIT_AS"] == limits.memory_bytes
    assert seen["limits"]["RLIMIT_NPROC"] == limits.processes


def test_an_engine_that_is_not_root_builds_nothing_and_says_what_it_needs(
    unprivileged: dict[str, object],
) -> None:
    """The image build and the runc check need root here (see docs/k8orize/sandbox.md); the build
    stops before buildah with one sentence naming why and what to do, not buildah's own error."""
    result = unprivileged
    refusal = str(result["build"])
    if shutil.which("runc") is None:
        assert refusal == messages.RUNC_MISSING
        return
    assert refusal.startswith(
        f"k8orize runs as UID {result['euid']}, not root: its sandbox works without root"
    )
    assert "host IDs 1879048192-1879113727, which only root may map" in refusal and "`ip netns`" in refusal
    assert refusal.endswith("Run the engine as root to build and verify, or pass --no-build.")
    assert "\n" not in refusal  # the build step's verdict shows the first line only
