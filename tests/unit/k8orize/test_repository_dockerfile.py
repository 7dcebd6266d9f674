"""The Dockerfile a pull request commits: it builds from the app's folder, installs the app's own
requirements at the verified versions and keeps the keep-lists; it never copies OUT/image/."""

from __future__ import annotations

from pathlib import Path

from k8orize import repository
from k8orize.dockerfile import DockerfileSpec, RepositoryInstall, render_repository
from tests.support.k8orize import fake_distribution

SPEC = DockerfileSpec(
    uid=10001,
    port=8080,
    cmd=["python", "app.py"],
    health_url="http://127.0.0.1:8080/health",
    env={"PORT": "8080"},
    imports=("flask",),
)


def test_traced_it_installs_the_requirements_at_the_verified_versions_then_keeps_the_lists() -> None:
    lines = render_repository(SPEC, RepositoryInstall()).splitlines()
    assert "COPY image/ /opt/k8or/" not in lines
    assert lines.count("FROM ${BASE_IMAGE} AS build") == 1 and "FROM ${BASE_IMAGE}" in lines
    copy = "COPY k8or/repository/keep-files.txt k8or/repository/keep-list.txt k8or/repository/keep.py /build/"
    assert copy in lines and "COPY requirements.txt /build/" in lines
    text = "\n".join(lines)
    assert "-r requirements.txt -c /build/keep-list.txt" in text
    assert "keep.py --site /opt/k8or/site-packages /build/keep-list.txt" in text
    assert "keep.py --app /opt/k8or/app /build/keep-files.txt" in text
    assert 'python -c "import flask"' in text  # the smoke import of the verified dependencies
    assert "USER 10001:10001" in lines and 'ENV PORT="8080"' in lines


def test_untraced_it_installs_the_requirements_whole() -> None:
    text = render_repository(SPEC, RepositoryInstall(keep_list=False))
    assert "keep-list.txt" not in text and "keep.py --site" not in text
    assert "-r requirements.txt\n" in text and "keep.py --app" in text


def test_a_project_without_requirements_installs_itself() -> None:
    text = render_repository(SPEC, RepositoryInstall(requirements=None))
    assert "COPY . /build/app/" in text and "/build/app -c /build/keep-list.txt" in text


def test_the_keep_list_is_what_the_trimmed_tree_holds(tmp_path: Path) -> None:
    site, app = tmp_path / "image" / "site-packages", tmp_path / "image" / "app"
    fake_distribution(site, "Flask", "3.1.3", {"flask/__init__.py": ""}, ["flask"])
    fake_distribution(site, "blinker", "1.9.0", {"blinker/__init__.py": ""}, ["blinker"])
    (app / "pkg").mkdir(parents=True)
    (app / "app.py").write_text("")
    (app / "pkg" / "views.py").write_text("")
    built = repository.write(tmp_path, SPEC, requirements="requirements.txt")
    folder = tmp_path / "repository"
    pins = [ln for ln in (folder / "keep-list.txt").read_text().splitlines() if not ln.startswith("#")]
    assert pins == ["blinker==1.9.0", "Flask==3.1.3"]
    files = [ln for ln in (folder / "keep-files.txt").read_text().splitlines() if not ln.startswith("#")]
    assert files == ["app.py", "pkg/views.py"]
    assert (folder / "keep.py").read_text().startswith('"""Keep exactly what k8orize verified')
    assert "keep-list.txt" in (folder / "Dockerfile").read_text()
    assert str(built) == "repository/Dockerfile keeps 2 distributions and 2 app files"
