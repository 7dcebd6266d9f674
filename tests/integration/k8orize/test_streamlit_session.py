"""The Streamlit session driver against a real Streamlit server: a script that raises fails the run.

Streamlit catches a script's exception, shows it on the page and still reports the run as finished
successfully; the driver must see the exception on the page as a user would, or a trimmed tree that
lacks a module a page path needs would pass its runs (issue 12: a broken numpy passed the trimmed and
enforced runs). The runs here are k8orize's own (`run_app`: start, probe, drive the session, SIGTERM)
with the example's pinned Streamlit installed in a venv of its own.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from k8orize.install import find_uv
from k8orize.probes import free_port
from k8orize.runner import RunOutcome, RunSpec, SessionSpec, run_app

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
REPO = Path(__file__).resolve().parents[3]
STREAMLIT = (REPO / "examples" / "streamlit-app" / "requirements.txt").read_text().split()[0]

RAISES_ON_CLICK = """
import streamlit as st

st.title("Orders")
if st.button("Load orders"):
    raise RuntimeError("the orders service is unreachable")
st.write("press the button to load the orders")
"""

RAISES_ON_LOAD = """
import streamlit as st

st.title("Settings")
settings = {"region": "eu-west-1"}
st.write(settings["bucket"])
"""

WORKS = """
import streamlit as st

st.title("Orders")
if st.button("Load orders"):
    st.write("3 orders")
"""


@pytest.fixture(scope="module")
def streamlit_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A venv with the Streamlit the example pins (uv, as the engine installs; from its cache when warm)."""
    venv = tmp_path_factory.mktemp("streamlit") / "venv"
    uv = find_uv()
    assert uv, "uv is not installed: run `make .venv/.installed`"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([uv, "pip", "install", "--quiet", "--python", python, STREAMLIT], check=True, timeout=540)
    return python


def _run(python: str, tmp_path: Path, script: str) -> RunOutcome:
    (tmp_path / "app.py").write_text(textwrap.dedent(script))
    port = free_port()
    argv = [python, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    argv += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
    base = f"http://127.0.0.1:{port}"
    return run_app(
        RunSpec(
            argv=argv,
            cwd=tmp_path,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
            probes=[f"{base}/_stcore/health", f"{base}/"],
            log=tmp_path / "app.log",
            session=SessionSpec("streamlit-websocket", python, base),
            timeout=60.0,
        )
    )


def test_a_script_that_raises_on_a_button_press_fails_the_run(streamlit_python: str, tmp_path: Path) -> None:
    outcome = _run(streamlit_python, tmp_path, RAISES_ON_CLICK)
    session = outcome.session or {}
    assert not outcome.passed and session["ok"] is False, session
    assert session["script_runs"] == 2 and session["interacted_with"] == ["button"]  # the click's rerun
    assert session["error"] == "script run 2 raised RuntimeError: the orders service is unreachable"
    assert all(p.ok for p in outcome.probes)  # the server itself stayed healthy: only the page broke


def test_a_script_that_raises_on_load_fails_the_run(streamlit_python: str, tmp_path: Path) -> None:
    outcome = _run(streamlit_python, tmp_path, RAISES_ON_LOAD)
    session = outcome.session or {}
    assert not outcome.passed and session["ok"] is False, session
    assert session["script_runs"] == 1
    assert session["error"] == "script run 1 raised KeyError: 'bucket'"


def test_a_script_that_runs_clean_passes_both_runs(streamlit_python: str, tmp_path: Path) -> None:
    outcome = _run(streamlit_python, tmp_path, WORKS)
    session = outcome.session or {}
    assert outcome.passed and session["ok"] is True, session
    assert session["script_runs"] == 2 and "error" not in session
