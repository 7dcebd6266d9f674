"""Fetching an sdist as data: the index pip is configured with, its pages (PEP 503 and 691), which file
is chosen, the hash check, and what the host reads of a wheel a build handed back."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from k8orize.index_fetch import Sdist, SdistRefused, choose_sdist, fetch_sdist
from k8orize.install import missing_requirement
from k8orize.package_index import IndexConfig, IndexFile, index_config, project_files, shown
from k8orize.requirements import RequirementRefused
from k8orize.source_build import built_wheel, requires_dist
from testing.package_index import Dist, local_index, sdist, wheel


def _file(filename: str, **extra: object) -> IndexFile:
    return IndexFile(filename, f"https://files.example/{filename}", "https://index.example/simple", **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize("as_json", [True, False], ids=["PEP 691 JSON", "PEP 503 HTML"])
def test_a_project_page_lists_files_with_their_hashes(as_json: bool) -> None:
    tiny = sdist("Tiny.Pkg", "1.0", {"tiny.py": ""})
    with local_index(json=as_json) as index:
        index.add(tiny)
        files = project_files(index.url, "tiny_pkg", IndexConfig((index.url,)))  # any spelling of the name
        assert project_files(index.url, "absent", IndexConfig((index.url,))) == []
    assert [(f.filename, f.sha256) for f in files] == [
        (tiny.filename, hashlib.sha256(tiny.content).hexdigest())
    ]
    assert files[0].url == f"{index.url.removesuffix('/simple')}/files/{tiny.filename}"
    assert index.pages == ["application/vnd.pypi.simple.v1+json" if as_json else "text/html"]


def test_the_newest_sdist_the_requirement_and_this_python_allow_is_chosen() -> None:
    files = [
        _file("pkg-1.0.tar.gz"),
        _file("pkg-1.4.tar.gz"),
        _file("pkg-1.5.tar.gz", yanked=True),
        _file("pkg-1.6.tar.gz", requires_python=">=4"),
        _file("pkg-2.0rc1.tar.gz"),
        _file("pkg-1.9-py3-none-any.whl"),
        _file("pkg-1.8.zip"),
        _file("other-1.7.tar.gz"),
    ]
    assert choose_sdist(Requirement("pkg<2"), files) == files[1]
    assert choose_sdist(Requirement("pkg==1.5"), files) == files[2]  # a yanked file only when pinned
    assert choose_sdist(Requirement("pkg>=2.0rc1"), files) == files[4]
    assert choose_sdist(Requirement("pkg>=3"), files) is None


def test_pip_configuration_names_the_indexes(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": "http://a.example/simple",
    }
    env["PIP_EXTRA_INDEX_URL"] = "file:///srv/mirror/simple http://b.example/simple"
    env["PIP_TIMEOUT"] = "7"
    config = index_config(env)
    assert config.urls == ("http://a.example/simple", "file:///srv/mirror/simple", "http://b.example/simple")
    assert config.timeout == 7.0
    assert index_config({**env, "PIP_NO_INDEX": "1"}).urls == ()
    assert index_config({"PATH": os.environ["PATH"], "PIP_CONFIG_FILE": os.devnull}).urls == (
        "https://pypi.org/simple",
    )


def test_a_file_index_is_read_like_pip_reads_it(tmp_path: Path) -> None:
    """A mirror on disk (a folder per project with an index.html), as pip's file:// indexes are."""
    tiny = sdist("tiny", "1.0", {"tiny.py": ""})
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / tiny.filename).write_bytes(tiny.content)
    (tmp_path / "simple" / "tiny").mkdir(parents=True)
    sha = hashlib.sha256(tiny.content).hexdigest()
    link = f'<a href="../../files/{tiny.filename}#sha256={sha}">{tiny.filename}</a>'
    (tmp_path / "simple" / "tiny" / "index.html").write_text(link)
    config = IndexConfig((f"file://{tmp_path}/simple",))
    (tmp_path / "into").mkdir()
    fetched = fetch_sdist(Requirement("tiny"), config, tmp_path / "into")
    assert fetched.path.read_bytes() == tiny.content and fetched.sha256 == sha


def test_an_index_on_the_network_cannot_point_at_the_hosts_files(tmp_path: Path) -> None:
    secret = tmp_path / "bait-1.0.tar.gz"  # a file of the host's, named like the sdist
    secret.write_bytes(b"host data")
    sha = hashlib.sha256(b"host data").hexdigest()
    with local_index() as index:
        index.add(sdist("bait", "1.0", {}))
        page = f'<a href="file://{secret}#sha256={sha}">bait-1.0.tar.gz</a>'
        index.page = lambda project, as_json: ("text/html", page.encode())  # type: ignore[method-assign]
        with pytest.raises(SdistRefused, match="links bait-1.0.tar.gz outside http"):
            fetch_sdist(Requirement("bait"), IndexConfig((index.url,)), tmp_path / "into")


def test_an_unreachable_index_is_named_without_its_credentials(tmp_path: Path) -> None:
    config = IndexConfig(("http://ada:hunter2@127.0.0.1:9/simple",), timeout=5)
    with pytest.raises(SdistRefused) as refused:
        fetch_sdist(Requirement("anything"), config, tmp_path)
    assert "http://127.0.0.1:9/simple did not answer for anything" in str(refused.value)
    assert "hunter2" not in str(refused.value) and "ada" not in str(refused.value)
    assert shown("https://u:p@host.example:8443/simple/") == "https://host.example:8443/simple/"


def test_no_index_at_all_is_said(tmp_path: Path) -> None:
    with pytest.raises(SdistRefused, match="configured with no package index"):
        fetch_sdist(Requirement("anything"), IndexConfig(()), tmp_path)


def test_pips_last_words_name_the_requirement_without_a_wheel() -> None:
    direct = "ERROR: Could not find a version ...\nERROR: No matching distribution found for pkg>=1.0\n"
    assert str(missing_requirement(direct)) == "pkg>=1.0"
    nested = "ERROR: No matching distribution found for helper-lib>=1 (from hostile-dep)\n"
    assert str(missing_requirement(nested)) == "helper-lib>=1"
    assert missing_requirement("ERROR: ResolutionImpossible: ...\n") is None


def _built(tmp_path: Path, dist_wheel: Dist) -> tuple[Path, Sdist]:
    out = tmp_path / "out"
    out.mkdir(parents=True)
    (out / dist_wheel.filename).write_bytes(dist_wheel.content)
    (tmp_path / "checked").mkdir()
    return out, Sdist(tmp_path / "pkg-1.0.tar.gz", "pkg", Version("1.0"), "0" * 64, "http://index")


def test_a_built_wheels_requirements_are_checked_like_the_apps(tmp_path: Path) -> None:
    out, source = _built(tmp_path, wheel("pkg", "1.0", {}, requires=["six>=1", "evil @ file:///etc/shadow"]))
    checked = built_wheel(out, source, tmp_path / "checked")
    with pytest.raises(RequirementRefused, match=r"pkg-1.0-py3-none-any.whl \(built from pkg-1.0.tar.gz\)"):
        requires_dist(checked, source)
    out2, source2 = _built(tmp_path / "ok", wheel("pkg", "1.0", {}, requires=["six>=1"]))
    ok = built_wheel(out2, source2, tmp_path / "ok" / "checked")
    assert [str(r.requirement) for r in requires_dist(ok, source2)] == ["six>=1"]


def test_a_build_that_hands_back_another_project_or_a_link_is_refused(tmp_path: Path) -> None:
    out, source = _built(tmp_path, wheel("six", "99.0", {}))
    with pytest.raises(Exception, match="did not produce one wheel of pkg 1.0: it made six 99.0"):
        built_wheel(out, source, tmp_path / "checked")
    (out / "six-99.0-py3-none-any.whl").unlink()
    (out / "pkg-1.0-py3-none-any.whl").symlink_to("/etc/shadow")
    with pytest.raises(Exception, match="the wheel is not a regular file"):
        built_wheel(out, source, tmp_path / "checked")
    assert list((tmp_path / "checked").iterdir()) == []


def test_a_wheel_whose_metadata_names_another_project_is_refused(tmp_path: Path) -> None:
    impostor = wheel("other", "1.0", {})
    renamed = tmp_path / "pkg-1.0-py3-none-any.whl"
    with (
        zipfile.ZipFile(renamed, "w") as archive,
        zipfile.ZipFile(_bytes_file(tmp_path, impostor.content)) as src,
    ):
        for name in src.namelist():
            archive.writestr(name, src.read(name))
    source = Sdist(tmp_path / "pkg-1.0.tar.gz", "pkg", Version("1.0"), "0" * 64, "http://index")
    with pytest.raises(Exception, match="its METADATA names another project or version"):
        requires_dist(renamed, source)


def _bytes_file(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "source.whl"
    path.write_bytes(content)
    return path
