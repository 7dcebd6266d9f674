"""`{port}` in `--run`, and a `--run` that names its own port: refused in one line before anything runs.
`--env` mistakes are refused without repeating the value (it may be a secret)."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8orize.command import concrete_env, literal_port, with_placeholder
from k8orize.engine import k8orize
from k8orize.errors import BadRequest
from k8orize.request import K8orizeRequest, parse_env

PROBES = ("http://127.0.0.1:{port}/health",)


@pytest.mark.parametrize(
    ("run", "port"),
    [
        ("python -m http.server 8000", 8000),
        ("python app.py 8000", 8000),
        ("python -m uvicorn main:app --host 0.0.0.0 --port 8000", 8000),
        ("streamlit run app.py --server.port=8501", 8501),
        ("gunicorn -w 4 -b 0.0.0.0:5000 app:app", 5000),
        ("flask run -p 5000", 5000),
        ("python manage.py runserver 127.0.0.1:8000", 8000),
    ],
)
def test_a_literal_port_is_found(run: str, port: int) -> None:
    assert literal_port(run) == port
    assert "{port}" in with_placeholder(run, port) and str(port) not in with_placeholder(run, port)


@pytest.mark.parametrize(
    "run",
    [
        "python app.py {port}",
        "python -m uvicorn main:app --port {port} --workers 4",
        "python app.py",  # the port comes from the environment (--env PORT={port})
        "python app.py --workers 4",
        "python app.py 3",  # a small number is more likely a count than a port
        "python -c 'raise SystemExit(3)'",
    ],
)
def test_no_literal_port(run: str) -> None:
    assert literal_port(run) is None


def _request(tmp_path: Path, run: str, **options: object) -> K8orizeRequest:
    app = tmp_path / "app"
    app.mkdir(exist_ok=True)
    return K8orizeRequest(app_dir=app, out=tmp_path / "out", run=run, probes=PROBES, **options)  # type: ignore[arg-type]


def test_a_traced_run_with_a_literal_port_is_refused_in_one_line_before_anything_runs(tmp_path: Path) -> None:
    request = _request(tmp_path, "python -m uvicorn main:app --port 8000")
    with pytest.raises(BadRequest) as refused:
        k8orize(request)
    message = str(refused.value)
    assert message == (
        "`--run` listens on 8000 but k8orize runs the app on a free port: write {port} where the port goes "
        "(`python -m uvicorn main:app --port {port}`)."
    )
    assert not (tmp_path / "out").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["app"]


def test_untraced_a_literal_port_must_be_the_container_port(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match="listens on 8000 but the container listens on --port 8501"):
        _request(tmp_path, "python app.py 8000", trace=False).validate()
    _request(tmp_path, "python app.py 8000", trace=False, port=8000).validate()  # the same port: fine
    _request(tmp_path, "python app.py {port}").validate()


def test_local_runs_put_their_port_into_the_environment() -> None:
    assert concrete_env({"PORT": "{port}", "URL": "http://127.0.0.1:{port}/", "A": "1"}, 41234) == {
        "PORT": "41234",
        "URL": "http://127.0.0.1:41234/",
        "A": "1",
    }


def test_bad_env_and_port_never_repeat_the_value(tmp_path: Path) -> None:
    with pytest.raises(BadRequest) as no_equals:
        parse_env(["hunter2-the-password"])
    assert "hunter2" not in str(no_equals.value)
    with pytest.raises(BadRequest, match="'API KEY'") as bad_name:
        parse_env(["API KEY=hunter2"])
    assert "hunter2" not in str(bad_name.value)
    with pytest.raises(BadRequest, match="variable name"):
        _request(tmp_path, "python app.py {port}", env={"1X": "hunter2"}).validate()
    with pytest.raises(BadRequest, match="--port expects a port"):
        _request(tmp_path, "python app.py {port}", port=70000).validate()
