"""Requirement lines are checked before anything is downloaded: only named requirements reach pip."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8orize.appfiles import AppFiles
from k8orize.requirements import (
    LEGACY_BUILD,
    RequirementRefused,
    app_requirements,
    check_line,
    logical_lines,
    requirements_file,
)

HASH = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    "line",
    [
        "--index-url=https://evil.example/simple",
        "--index-url https://evil.example/simple",
        "-i https://evil.example/simple",
        "--extra-index-url https://evil.example/simple",
        "-f https://evil.example/wheels/",
        "--find-links=/tmp/wheels",
        "-e .",
        "-e git+https://evil.example/x.git#egg=x",
        "-r other.txt",
        "-c constraints.txt",
        "--trusted-host evil.example",
        "six --index-url=https://evil.example/simple",
        "six --global-option=--evil",
    ],
)
def test_option_lines_are_refused_by_name(line: str) -> None:
    with pytest.raises(RequirementRefused, match="is a pip option, not a requirement") as refused:
        check_line(line, "requirements.txt line 3")
    assert str(refused.value).startswith(f"requirements.txt line 3: `{line}`")


@pytest.mark.parametrize(
    "line",
    [
        "https://evil.example/six-1.16.0-py2.py3-none-any.whl",
        "six @ https://evil.example/six-1.16.0.tar.gz",
        "six @ https://evil.example/six-1.16.0-py2.py3-none-any.whl",
        "six @ file:///etc/passwd",
        "git+https://evil.example/six.git",
        "./vendored/six",
        "../six",
        "/opt/six",
        "~/six",
        ".",
    ],
)
def test_urls_and_paths_are_refused(line: str) -> None:
    with pytest.raises(RequirementRefused, match="installs from a URL or a path"):
        check_line(line, "pyproject.toml [project] dependencies")


def test_a_wheel_url_passes_only_when_allowed() -> None:
    wheel = "six @ https://files.example/six-1.16.0-py2.py3-none-any.whl"
    assert check_line(wheel, "x", allow_urls=True).requirement.url is not None
    for line in ("six @ https://files.example/six-1.16.0.tar.gz", "six @ http://files.example/six.whl"):
        with pytest.raises(RequirementRefused, match="URL or a path"):
            check_line(line, "x", allow_urls=True)


def test_malformed_lines_say_why() -> None:
    with pytest.raises(RequirementRefused, match=r"`six>>1` is not a valid requirement \("):
        check_line("six>>1", "requirements.txt line 1")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("six==1.16.0", "six==1.16.0"),
        ("requests[socks]>=2.31,<3", "requests[socks]<3,>=2.31"),
        ("uvloop>=0.19; sys_platform != 'win32'", 'uvloop>=0.19; sys_platform != "win32"'),
        (f"six==1.16.0 --hash={HASH}", f"six==1.16.0 --hash={HASH}"),
        (f"six==1.16.0 --hash {HASH.upper().replace('SHA256', 'sha256')}", f"six==1.16.0 --hash={HASH}"),
    ],
)
def test_named_requirements_pass_with_their_pins(line: str, expected: str) -> None:
    assert check_line(line, "x").line == expected


def test_logical_lines_drop_comments_and_join_continuations() -> None:
    text = "# header\nsix==1.16.0  # pinned\n\nrequests \\\n  >=2.31\n  \n#--index-url x\n"
    assert logical_lines(text) == [(2, "six==1.16.0"), (4, "requests    >=2.31")]


def test_a_requirements_file_names_the_line_it_refuses() -> None:
    with pytest.raises(RequirementRefused, match="^requirements.txt line 3: `--extra-index-url"):
        requirements_file("six\n# fine\n--extra-index-url https://evil.example/simple\n")


def _app(tmp_path: Path, files: dict[str, str]) -> AppFiles:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return AppFiles(tmp_path)


def test_a_project_brings_its_build_requirements(tmp_path: Path) -> None:
    pyproject = (
        '[build-system]\nrequires = ["hatchling>=1.20"]\nbuild-backend = "hatchling.build"\n'
        '[project]\nname = "shop"\nversion = "1"\ndependencies = ["six==1.16.0"]\n'
    )
    wanted = app_requirements(_app(tmp_path, {"pyproject.toml": pyproject}), install_project=True)
    assert wanted.lines == ["six==1.16.0"] and wanted.downloads == ["six==1.16.0", "hatchling>=1.20"]
    assert not app_requirements(AppFiles(tmp_path), install_project=False).build


def test_a_legacy_project_builds_with_setuptools(tmp_path: Path) -> None:
    wanted = app_requirements(
        _app(tmp_path, {"pyproject.toml": '[project]\nname = "x"\n'}), install_project=True
    )
    assert [r.line for r in wanted.build] == list(LEGACY_BUILD)


def test_hostile_pyproject_entries_are_refused(tmp_path: Path) -> None:
    pyproject = '[build-system]\nrequires = ["--index-url=https://evil.example/simple"]\n'
    with pytest.raises(RequirementRefused, match=r"^pyproject.toml \[build-system\] requires: `--index-url"):
        app_requirements(_app(tmp_path, {"pyproject.toml": pyproject}), install_project=True)
    (tmp_path / "pyproject.toml").write_text('[project]\ndependencies = "six"\n')
    with pytest.raises(RequirementRefused, match="is not a list of strings"):
        app_requirements(AppFiles(tmp_path), install_project=False)
