"""The two examples of issue 12 (a Streamlit dashboard, a Django app with static files and migrations),
k8orized without the image: sandboxed install and trace, the trim at each level, the closure check
(pip check of the trimmed tree), every traced module imported again, and the trimmed tree run plainly
and under the seccomp profile. The image, its push and the runc check run for them in bench/k8orize
(`--example streamlit-dashboard --example django-example`): four more builds would not fit CI's time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from bench.k8orize.examples import example
from k8orize.engine import K8orizeResult, k8orize

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
DASHBOARD = pytest.mark.xdist_group("k8orize-dashboard")
DJANGO = pytest.mark.xdist_group("k8orize-django")


def _k8orized(tmp: pytest.TempPathFactory, name: str, trim: str) -> K8orizeResult:
    app = example(name)
    out = tmp.mktemp(f"{name}-{trim}") / "out"
    request = app.request(out, base_image="unused", push="unused/unused", trim=trim)
    return k8orize(replace(request, build=False, push=None))


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[K8orizeResult]:
    yield _k8orized(tmp_path_factory, "streamlit-dashboard", "safe")


@pytest.fixture(scope="module")
def dashboard_traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[K8orizeResult]:
    yield _k8orized(tmp_path_factory, "streamlit-dashboard", "traced")


@pytest.fixture(scope="module")
def django_traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[K8orizeResult]:
    yield _k8orized(tmp_path_factory, "django-example", "traced")


def _steps(result: K8orizeResult) -> dict[str, str]:
    return {s["step"]: s["status"] for s in result.report["steps"]}


@DASHBOARD
def test_dashboard_safe_trim_keeps_every_requirement_and_still_shrinks(dashboard: K8orizeResult) -> None:
    steps = _steps(dashboard)
    assert all(steps[s] == "ok" for s in ("install", "trace", "trim", "verify trimmed", "verify enforced"))
    trim = dashboard.report["trim"]
    assert trim is not None and trim["closure_check"]["passed"], trim and trim["closure_check"]
    assert trim["reimport"]["failed_after_trim"] == {} and trim["reimport"]["modules"] > 500
    kept = set(dashboard.report["sizes"]["kept_distributions"])
    assert {"pillow", "pydeck", "tzdata", "pyarrow", "altair"} <= kept  # required, whether traced or not
    assert trim["levels"]["safe"]["reduction_percent"] >= 20
    removed = trim["levels"]["safe"]["removed_by_category"]
    assert removed["debug symbols (strip --strip-unneeded)"] > 10_000_000 and removed["tests"] > 10_000_000
    untraced = {u["name"]: u["required_by"] for u in trim["untraced_requirements"]}
    assert untraced.get("pydeck") == "streamlit"
    # What --trim traced would give: pyarrow's libraries the dataframe never loaded (Flight, Parquet,
    # datasets) go with the untraced requirements; listed, and kept at this level.
    traced = trim["levels"]["traced"]
    assert traced["reduction_percent"] >= 30
    assert traced["removed_by_category"]["shared objects never loaded (--trim traced)"] > 10_000_000
    native = trim["untraced_shared_objects"]
    assert any(rel.startswith("pyarrow/") for rel in native) and not trim["untraced_shared_objects_dropped"]
    assert all((dashboard.out / "image" / "site-packages" / rel).is_file() for rel in native)
    # The page rendered from the trimmed tree: the script's own log line, not only a session handshake.
    assert '"event": "dashboard_rendered"' in (dashboard.out / "runs" / "trimmed.log").read_text()
    assert '"event": "dashboard_rendered"' in (dashboard.out / "runs" / "enforced.log").read_text()


@DASHBOARD
def test_dashboard_traced_trim_leaves_unloaded_native_code_out_and_still_renders(
    dashboard_traced: K8orizeResult,
) -> None:
    """--trim traced: pyarrow's libraries the dataframe never loaded are left out, and the page still
    renders from the trimmed tree, plainly and under the seccomp profile; what was left out is said."""
    steps = _steps(dashboard_traced)
    assert all(steps[s] == "ok" for s in ("install", "trace", "trim", "verify trimmed", "verify enforced"))
    report, out = dashboard_traced.report, dashboard_traced.out
    trim = report["trim"]
    assert trim is not None and trim["level"] == "traced" and trim["untraced_shared_objects_dropped"]
    assert trim["reimport"]["failed_after_trim"] == {} and trim["reimport"]["modules"] > 500
    assert report["sizes"]["reduction_percent"] == trim["levels"]["traced"]["reduction_percent"] >= 30
    native = trim["untraced_shared_objects"]
    assert any(rel.startswith("pyarrow/") for rel in native)
    assert not any((out / "image" / "site-packages" / rel).exists() for rel in native)
    assert (out / "image" / "site-packages" / "pyarrow").is_dir()  # what the page loaded stays
    assert '"event": "dashboard_rendered"' in (out / "runs" / "trimmed.log").read_text()
    assert '"event": "dashboard_rendered"' in (out / "runs" / "enforced.log").read_text()
    assert any("shared objects the dynamic loader never opened" in item for item in report["not_verified"])
    assert (
        "WARNING (--trim traced): an import the trace did not take may fail; shared objects"
        in (out / "SUMMARY.md").read_text()
    )


@DJANGO
def test_django_traced_trim_serves_static_files_and_leaves_unused_modules_out(
    django_traced: K8orizeResult,
) -> None:
    report = django_traced.report
    trimmed = report["verification"]["trimmed"]
    assert trimmed is not None and trimmed["passed"]
    assert {p["url"].split("/", 3)[3] for p in trimmed["probes"] if p["ok"]} == {
        "health",
        "",
        "static/notes/style.css",
        "static/admin/css/base.css",  # Django's own static files, from the trimmed site-packages
    }
    trim = report["trim"]
    assert trim is not None and trim["level"] == "traced"
    assert trim["unused_app_modules"] == ["notes/exports.py"] and trim["unused_app_modules_dropped"]
    app = django_traced.out / "image" / "app"
    assert not (app / "notes" / "exports.py").exists()
    assert (app / "notes" / "migrations" / "0002_welcome_note.py").is_file()  # applied at start: traced
    assert (app / "notes" / "static" / "notes" / "style.css").is_file()
    site = django_traced.out / "image" / "site-packages"
    assert not list(site.rglob("*.po")) and list(site.rglob("django.mo"))
    assert trim["reimport"]["failed_after_trim"] == {}
    assert any("notes/exports.py" in item for item in report["not_verified"])
    assert "- App modules nothing imports: notes/exports.py" in django_traced.summary()
