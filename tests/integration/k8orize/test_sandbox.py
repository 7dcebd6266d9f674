"""The sandbox from the outside: what a command in it can see, reach and use, and what happens without it.

The hostile app's hunt (tests/support/data/hostile-app/hunt.py) runs once on the host, as a control
that proves it finds every planted secret, and once in the sandbox, where it must find none.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from k8orize import cli, hardening, messages, sandbox
from k8orize.install import install_sandboxed
from k8orize.requirements import AppRequirements, requirements_file
from k8orize.sandbox import SandboxHost, SandboxLimits, View, base_python
from tests.support.hostile import Planted, hostile_app, planted
from tests.support.k8orize import HTTP_APP

UID = hardening.app_uid("sandbox-test")

SPY = Path(__file__).resolve().parents[2] / "support" / "data" / "sandbox_spy.py"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHost]:
    if sandbox.unavailable_reason():
        pytest.fail(
            f"bubblewrap cannot run here: {sandbox.unavailable_reason()} (see scripts/system-packages)"
        )
    box = SandboxHost(UID, SandboxLimits(), tmp_path_factory.mktemp("sandbox"))
    yield box
    box.close()


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Planted]:
    with planted(monkeypatch, tmp_path / "data") as found:
        yield found


def _last_json(log: Path) -> dict[str, object]:
    value: dict[str, object] = json.loads(log.read_text().strip().splitlines()[-1])
    return value


def test_inside_is_a_small_world_of_its_own(host: SandboxHost, tmp_path: Path) -> None:
    log = tmp_path / "spy.log"
    with socket.create_server(("127.0.0.1", 0)) as listener:
        spy = [base_python(), "-I", "-S", str(SPY), str(os.getpid()), str(listener.getsockname()[1])]
        assert host.run(spy, View(readonly=(SPY,)), log, 30) == 0, log.read_text()
    seen = _last_json(log)
    assert seen["ids"] == [UID, UID, UID] and seen["groups"] == [] and seen["caps"] == "0000000000000000"
    assert seen["env"] == ["HOME", "LANG", "PATH", "PWD", "TMPDIR"]  # PWD: bwrap's own
    assert seen["pids"] == [1, seen["pid"]] and not seen["bot_proc"]  # its own pid namespace
    assert seen["hostname"] == "k8orize-sandbox"
    assert seen["bot_listener"] == "ConnectionRefusedError"  # its own loopback, where nothing listens
    assert seen["internet"] == "OSError" and seen["dns"] == "gaierror"  # no route out, no resolver
    assert seen["write_usr"] == "OSError" and seen["write_tmp"] == "allowed"  # /usr read-only, /tmp private
    assert not seen["userns"]  # no nested user namespace to regain privileges in
    limits = SandboxLimits()
    assert seen["limits"] == {
        "RLIMIT_CPU": limits.cpu_seconds,
        "RLIMIT_AS": limits.memory_bytes,
        "RLIMIT_NPROC": limits.processes,
        "RLIMIT_FSIZE": limits.file_bytes,
    }


def test_the_hunt_finds_every_secret_on_the_host(secrets: Planted, tmp_path: Path) -> None:
    """The control: without a sandbox the hostile code gets every secret out."""
    app = hostile_app(tmp_path / "app", secrets)
    run = subprocess.run([sys.executable, str(app / "hunt.py"), "control"], capture_output=True, timeout=60)
    secrets.sink.close()
    assert set(secrets.leaks([run.stdout])) == set(secrets.secrets)
    assert set(secrets.leaks([bytes(secrets.sink.received)])) == set(secrets.secrets)
    assert any(set(secrets.leaks([p.read_text()])) == set(secrets.secrets) for p in secrets.loot_files())


def test_the_hunt_finds_nothing_in_the_sandbox(host: SandboxHost, secrets: Planted, tmp_path: Path) -> None:
    app = hostile_app(tmp_path / "app", secrets)
    before = set(secrets.loot_files())
    log = tmp_path / "hunt.log"
    code = host.run([base_python(), "-I", str(app / "hunt.py"), "sandboxed"], View(readonly=(app,)), log, 60)
    secrets.sink.close()
    assert code == 0, log.read_text()
    assert "the sink is out of reach" in log.read_text()  # it tried
    assert secrets.leaks([log.read_text(), bytes(secrets.sink.received)]) == []
    assert secrets.sink.received == b"" and set(secrets.loot_files()) == before


def test_the_wall_clock_and_the_process_cap_hold(tmp_path: Path) -> None:
    small = SandboxHost(UID, SandboxLimits(processes=16), tmp_path)
    log = tmp_path / "limits.log"
    forks = "import os\nfor n in range(64):\n    if os.fork() == 0:\n        import time; time.sleep(5)\n"
    assert small.run([base_python(), "-I", "-S", "-c", forks], View(), log, 30) != 0
    assert "BlockingIOError" in log.read_text()  # fork refused: EAGAIN at the cap
    assert small.run(["sleep", "60"], View(), log, 1) == -9  # killed, sandbox and all


@pytest.mark.slow  # talks to the package index
def test_a_sandboxed_install_sees_only_the_downloaded_wheels(tmp_path: Path) -> None:
    box = SandboxHost(UID, SandboxLimits(), tmp_path / "scratch")
    (tmp_path / "scratch").mkdir()
    log = tmp_path / "install.log"
    wanted = requirements_file("six==1.16.0\n")
    venv = install_sandboxed(box, AppRequirements(tuple(wanted)), tmp_path, log, "auto")
    assert (venv.site_packages / "six.py").is_file()
    text = log.read_text()
    assert "--only-binary :all:" in text and "--offline --no-index" in text
    assert f"in the sandbox (no network, UID {UID})" in text
    box.close()


def _app(tmp_path: Path) -> Path:
    app = tmp_path / "tiny"
    app.mkdir()
    (app / "app.py").write_text(HTTP_APP)
    (app / "requirements.txt").write_text("# stdlib only\n")
    return app


def _cli(tmp_path: Path, *extra: str) -> int:
    args = ["k8orize", str(_app(tmp_path)), "--out", str(tmp_path / "out"), "--run", "python app.py {port}"]
    return cli.main([*args, "--probe", "http://127.0.0.1:{port}/health", "--no-build", *extra])


def test_without_bubblewrap_the_cli_refuses_to_run_the_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        sandbox, "unavailable_reason", lambda: "bwrap is not installed (apt-get install bubblewrap)"
    )
    assert _cli(tmp_path) == 2
    err = capsys.readouterr().err
    assert "its code runs only inside a bubblewrap sandbox, and bwrap is not installed" in err
    assert messages.UNSAFE_HINT in err and not (tmp_path / "out").exists()


def test_unsafe_no_sandbox_runs_on_the_host_and_the_report_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sandbox, "unavailable_reason", lambda: "no user namespaces")
    assert _cli(tmp_path, "--unsafe-no-sandbox") in (0, 1)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert messages.UNSANDBOXED in report["not_verified"]
    install = next(s for s in report["steps"] if s["step"] == "install")
    assert "WITHOUT a sandbox" in install["detail"]
    assert report["verification"]["enforced"]["run"]["passed"]
