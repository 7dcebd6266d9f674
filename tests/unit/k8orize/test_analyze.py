"""Static analysis: app kinds, entrypoints, redundant files, secrets, unused and missing dependencies."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8orize.analyze import analyze, dependency_report, imported_modules, local_modules, scan_files
from k8orize.appfiles import AppFiles
from k8orize.appkinds import AppKind, AppKindRegistry, PythonApp, StreamlitApp, default_registry
from k8orize.distributions import installed
from k8orize.errors import UnknownAppKind
from tests.support.k8orize import EXAMPLE, fake_distribution


def test_example_is_a_streamlit_app_with_its_entrypoint() -> None:
    analysis = analyze(EXAMPLE, default_registry())
    assert analysis.kind.name == "streamlit"
    assert analysis.entrypoint == Path("app.py")
    assert analysis.declared == ["streamlit", "tabulate"]
    assert "streamlit" in analysis.imports


def test_plain_python_app_is_python_kind(http_app: Path) -> None:
    analysis = analyze(http_app, default_registry())
    assert analysis.kind.name == "python"
    assert analysis.entrypoint == Path("app.py")


def test_pyproject_dependencies_are_declared(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["Streamlit>=1.30", "rich"]\n'
    )
    (tmp_path / "main.py").write_text("import streamlit as st\n")
    analysis = analyze(tmp_path, default_registry())
    assert analysis.kind.name == "streamlit"
    assert analysis.declared == ["rich", "Streamlit"]


def test_directory_without_manifest_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "index.js").write_text("console.log(1)\n")
    with pytest.raises(UnknownAppKind, match="requirements.txt or pyproject.toml"):
        analyze(tmp_path, default_registry())


def test_registry_rejects_duplicates_and_non_kinds() -> None:
    registry = AppKindRegistry()
    registry.register(PythonApp())
    with pytest.raises(ValueError, match="already registered"):
        registry.register(PythonApp())
    with pytest.raises(TypeError):
        registry.register(object())  # type: ignore[arg-type]


def test_a_new_kind_plugs_into_a_fresh_registry(tmp_path: Path) -> None:
    class NodeApp(AppKind):
        name = "node"

        def detect(self, app: AppFiles) -> bool:
            return app.is_file("package.json")

        def entrypoint(self, app: AppFiles) -> Path | None:
            return Path("index.js")

        def default_run(self, entrypoint: Path) -> str:
            return f"node {entrypoint}"

    registry = AppKindRegistry()
    registry.register(StreamlitApp())
    registry.register(NodeApp())
    (tmp_path / "package.json").write_text("{}")
    (tmp_path / "index.js").write_text("")
    assert analyze(tmp_path, registry).kind.name == "node"


def test_scan_sorts_redundant_files_and_flags_secrets(http_app: Path) -> None:
    (http_app / ".git").mkdir()
    (http_app / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (http_app / "__pycache__").mkdir()
    (http_app / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0" * 10)
    (http_app / "dist").mkdir()
    (http_app / "dist" / "tiny-0.1.tar.gz").write_bytes(b"\0")
    (http_app / "deploy.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    (http_app / ".streamlit").mkdir()
    (http_app / ".streamlit" / "secrets.toml").write_text('token = "x"\n')
    (http_app / ".streamlit" / "config.toml").write_text("[server]\n")
    scan = scan_files(http_app)
    assert scan.keep == [".streamlit/config.toml", "app.py"]
    assert sorted(scan.secrets) == [".env", ".streamlit/secrets.toml", "deploy.pem"]
    assert scan.redundant["vcs"] == [".git/HEAD"]
    assert scan.redundant["caches"] == ["__pycache__/app.cpython-311.pyc"]
    assert scan.redundant["tests"] == ["tests/test_app.py"]
    assert scan.redundant["notebooks"] == ["notes.ipynb"]
    assert scan.redundant["build artifacts"] == ["dist/tiny-0.1.tar.gz"]
    assert "README.md" in scan.redundant["docs"]


def test_dependencies_map_through_installed_metadata(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    fake_distribution(site, "pillow", "10.0", {"PIL/__init__.py": ""}, ["PIL"])
    fake_distribution(site, "tabulate", "0.9", {"tabulate/__init__.py": ""}, ["tabulate"])
    fake_distribution(
        site, "PyYAML", "6.0", {"yaml/__init__.py": "", "_yaml/__init__.py": ""}, ["_yaml", "yaml"]
    )
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.py").write_text(
        "import json\nfrom PIL import Image\nimport yaml\nimport helpers\nfrom . import x\n"
    )
    (app / "helpers.py").write_text("import os\n")
    imports = imported_modules(app, ["app.py", "helpers.py"])
    report = dependency_report(["Pillow", "tabulate"], imports, local_modules(app), installed(site))
    assert report.unused == ["tabulate"]  # Pillow is used, through its import name PIL
    assert report.missing == ["PyYAML"]  # imported as yaml, provided by PyYAML, not declared
    assert report.imported == ["PIL", "yaml"]
    assert report.mapping == "installed-metadata"


def test_dependencies_without_an_install_fall_back_to_names(tmp_path: Path) -> None:
    report = dependency_report(["requests", "tabulate"], {"requests", "numpy"}, set(), None)
    assert report.unused == ["tabulate"]
    assert report.missing == ["numpy"]
    assert report.mapping == "name-heuristic"
