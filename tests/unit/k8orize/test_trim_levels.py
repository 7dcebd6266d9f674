"""Trimming at two levels (issue 12): `safe` keeps the requirement closure of what the app uses and drops
only what nothing needs or no import reads; `traced` also drops what the trace never loaded, and says so.
The figures of both levels are in every traced run's result."""

from __future__ import annotations

import _json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from k8orize import strip, trim
from k8orize.appfiles import AppFiles
from k8orize.appmodules import unused_modules
from k8orize.closure import requirement_closure, target_environment
from k8orize.closure_check import pip_check
from k8orize.distributions import installed
from k8orize.errors import BadRequest
from k8orize.reimport import module_name, prove, traced_modules
from k8orize.request import K8orizeRequest
from tests.support.k8orize import fake_distribution

LONG_LICENSE = "License: BSD\n        All rights reserved.\n        \n        Redistribution is allowed.\n"


def dist(site: Path, name: str, files: dict[str, str], requires: tuple[str, ...] = ()) -> None:
    """An installed distribution whose METADATA carries Requires-Dist (after a License with a blank line)."""
    top = sorted({rel.split("/")[0].removesuffix(".py") for rel in files})
    fake_distribution(site, name, "1.0", files, top)
    meta = site / f"{name.replace('-', '_')}-1.0.dist-info" / "METADATA"
    lines = "".join(f"Requires-Dist: {r}\n" for r in requires)
    meta.write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n{LONG_LICENSE}{lines}\nREADME\n")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """web (used, traced) requires codec (never loaded) and, on Windows only, winreg-helper; tabulate is
    declared but unused; pip came with the venv; numlib (imported by the app) carries tests, headers,
    stubs and a testing module it imports itself."""
    site = tmp_path / "site-packages"
    dist(
        site,
        "web",
        {"web/__init__.py": "", "web/server.py": "", "web/tests/test_server.py": "def test(): ...\n"},
        ("codec>=1", 'winreg-helper; sys_platform == "win32"', 'fast[speed]; extra == "speedups"'),
    )
    dist(site, "codec", {"codec/__init__.py": ""})
    dist(site, "winreg-helper", {"winreg_helper.py": ""})
    dist(site, "fast", {"fast/__init__.py": ""}, ('turbo; extra == "speed"',))
    dist(site, "turbo", {"turbo.py": ""})
    dist(site, "tabulate", {"tabulate.py": "x = 1\n" * 500})
    dist(site, "pip", {"pip/__init__.py": "", "pip/_internal/x.py": ""})
    numlib = {
        "numlib/__init__.py": "from .testing import assert_close\n",
        "numlib/core.py": "",
        "numlib/core.pyi": "def f() -> int: ...\n",
        "numlib/_impl.c": "int x;\n",
        "numlib/_impl.h": "int x;\n",
        "numlib/_impl.pyx": "cdef int x\n",
        "numlib/libnum.a": "!<arch>\n",
        "numlib/testing/__init__.py": "def assert_close(): ...\n",
        "numlib/tests/test_core.py": "import numlib.testing\n",
        "numlib/docs/guide.py": "print('a guide')\n",
        "numlib/locale/de/LC_MESSAGES/numlib.po": 'msgid "x"\nmsgstr "y"\n',
        "numlib/locale/de/LC_MESSAGES/numlib.mo": "catalog",
        "numlib/__pycache__/core.cpython-311.pyc": "bytecode",
    }
    dist(site, "numlib", numlib)
    return site


def opened(site: Path, *rels: str) -> set[str]:
    return {str(site / rel) for rel in rels}


def build(
    site: Path, level: str, tmp: Path, traced: set[str], declared: tuple[str, ...] = ()
) -> trim.TrimResult:
    dists = installed(site)
    in_site = trim.opened_in_site(traced, site)
    roots = trim.closure_roots(
        trim.touched_distributions(in_site, dists), {"web", "numlib"}, dists, ["web[speedups]"]
    )
    plan = trim.plan_site(site, dists, in_site, roots, declared)
    tally = trim.TrimTally()
    trim.trim_site_packages(site, dists, plan, level, tmp / level / "site-packages", tmp / "scratch", tally)
    return tally.result()


def kept_files(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".dist-info" not in str(p)
    }


def test_safe_keeps_every_requirement_of_what_the_app_uses(site: Path, tmp_path: Path) -> None:
    result = build(site, "safe", tmp_path, opened(site, "web/__init__.py", "web/server.py"), ("tabulate",))
    assert result.kept_distributions == ("codec", "fast", "numlib", "turbo", "web")
    assert set(result.dropped_distributions) == {"pip", "tabulate", "winreg-helper"}  # the marker is Windows'
    assert result.removed[trim.UNUSED_DECLARED] > 0 and result.removed[trim.INSTALLER] > 0
    assert result.removed[trim.UNREQUIRED] > 0  # winreg-helper: nothing on Linux requires it
    assert {u.name: u.required_by for u in result.untraced} == {
        "codec": "web",
        "fast": "web",
        "turbo": "fast",
    }


def test_traced_also_drops_what_the_trace_never_loaded_and_both_levels_are_counted(
    site: Path, tmp_path: Path
) -> None:
    traced = opened(site, "web/__init__.py", "numlib/__init__.py", "numlib/testing/__init__.py")
    safe, narrow = build(site, "safe", tmp_path, traced), build(site, "traced", tmp_path, traced)
    assert narrow.kept_distributions == ("numlib", "web")
    assert not (tmp_path / "traced" / "site-packages" / "codec").exists()
    assert narrow.removed[trim.UNTRACED] > 0
    assert (tmp_path / "safe" / "site-packages" / "codec" / "__init__.py").is_file()
    # Each run counts both levels, and the level it built is the one its layer shows.
    for result in (safe, narrow):
        assert result.levels["safe"].bytes_after == safe.bytes_after
        assert result.levels["traced"].bytes_after == narrow.bytes_after
    assert narrow.bytes_after < safe.bytes_after < safe.bytes_before


def test_inside_kept_distributions_what_no_import_reads_goes(site: Path, tmp_path: Path) -> None:
    traced = opened(site, "web/__init__.py", "numlib/_impl.h")  # a header the app did read stays
    result = build(site, "safe", tmp_path, traced)
    numlib = kept_files(tmp_path / "safe" / "site-packages" / "numlib")
    # numlib imports its own testing module; its tests, docs, stubs, sources and archives go.
    assert numlib == {
        "__init__.py",
        "core.py",
        "testing/__init__.py",
        "_impl.h",
        "locale/de/LC_MESSAGES/numlib.mo",
    }
    assert not (tmp_path / "safe" / "site-packages" / "web" / "tests").exists()
    categories = (strip.TESTS, strip.DOCS, strip.STUBS, strip.SOURCES, strip.CYTHON, strip.ARCHIVES)
    for category in (*categories, strip.TRANSLATION_SOURCES):
        assert result.removed[category] > 0, category
    assert result.removed[strip.CACHES] > 0


def test_a_shared_object_is_stripped_into_a_new_file_and_still_imports(tmp_path: Path) -> None:
    original = Path(_json.__file__)
    src = tmp_path / "venv" / original.name
    src.parent.mkdir()
    shutil.copy2(original, src)
    link = tmp_path / "venv" / "linked.so"
    os.link(src, link)  # the venv's file may be linked elsewhere: stripping must never change it
    dest = tmp_path / "site" / original.name
    before = src.read_bytes()
    done = strip.strip_to(src, dest)
    assert src.read_bytes() == before == link.read_bytes()
    assert strip.is_shared_object(dest) and done.after == dest.stat().st_size <= done.before
    assert b".symtab" not in dest.read_bytes()  # no symbol table left
    code = f"import sys; sys.path.insert(0, {str(dest.parent)!r}); import _json; print(_json.__file__)"
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(dest)


def test_a_library_the_loader_would_refuse_after_strip_is_shipped_unstripped(tmp_path: Path) -> None:
    """patchelf-rewritten libraries (auditwheel's `<package>.libs/`) come out of strip with a LOAD
    segment whose offset no longer matches its address: the copy is the original then."""
    original = Path(_json.__file__)
    assert strip.loadable(original)
    data = bytearray(original.read_bytes())
    phoff, phentsize, phnum = struct.unpack_from("<Q", data, 32)[0], *struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        at = phoff + i * phentsize
        if struct.unpack_from("<I", data, at)[0] == 1 and struct.unpack_from("<Q", data, at + 48)[0] > 1:
            struct.pack_into("<Q", data, at + 8, struct.unpack_from("<Q", data, at + 8)[0] + 1)  # p_offset
            break
    broken = tmp_path / "libbroken.so"
    broken.write_bytes(bytes(data))
    assert not strip.loadable(broken)


def test_marker_environment_is_the_images_and_extras_are_followed(site: Path) -> None:
    dists = installed(site)
    closure = requirement_closure({"web": {"speedups"}}, dists, target_environment())
    assert closure.members == {"web", "codec", "fast", "turbo"}
    assert closure.required_by["turbo"] == "fast" and closure.required_by["web"] == ""
    windows = {**target_environment(), "sys_platform": "win32"}
    assert "winreg-helper" in requirement_closure({"web": set()}, dists, windows).members


def test_pip_check_passes_on_the_safe_tree_and_names_what_traced_dropped(site: Path, tmp_path: Path) -> None:
    traced = opened(site, "web/__init__.py", "numlib/__init__.py")
    build(site, "safe", tmp_path, traced)
    build(site, "traced", tmp_path, traced)
    assert pip_check(None, tmp_path / "safe" / "site-packages").passed
    broken = pip_check(None, tmp_path / "traced" / "site-packages")
    assert broken.ran and not broken.passed
    assert any("web 1.0 requires codec, which is not installed" in line for line in broken.problems)


def test_traced_modules_are_named_from_the_files_the_trace_opened() -> None:
    rels = [
        "pkg/__init__.py",
        "pkg/sub/mod.py",
        "pkg/__main__.py",
        "pkg/_speed.cpython-311-x86_64-linux-gnu.so",
        "pkg.libs/libfoo-1a2b.so",
        "pkg/libarrow.so.1600",
        "pkg/data.json",
        "six.py",
    ]
    assert [module_name(r) for r in rels] == [
        "pkg",
        "pkg.sub.mod",
        None,
        "pkg._speed",
        None,
        None,
        None,
        "six",
    ]
    assert traced_modules(rels) == ["pkg", "pkg._speed", "pkg.sub.mod", "six"]


def test_reimport_tells_a_removal_that_broke_an_import_from_a_module_that_never_imported(
    tmp_path: Path,
) -> None:
    full, trimmed = tmp_path / "full", tmp_path / "trimmed"
    for root in (full, trimmed):
        (root / "app_lib").mkdir(parents=True)
        (root / "app_lib" / "__init__.py").write_text("from . import helpers\n")
        (root / "needs_config.py").write_text("raise RuntimeError('settings are not configured')\n")
    (full / "app_lib" / "helpers.py").write_text("")  # the trim removed it from the trimmed tree
    verdict = prove(None, trimmed, full, ["app_lib", "needs_config"])
    assert not verdict.proved and verdict.modules == 2 and verdict.imported_again == 0
    assert list(verdict.failed_after_trim) == ["app_lib"]
    assert verdict.failed_before_trim_too == {"needs_config": "RuntimeError: settings are not configured"}
    (trimmed / "app_lib" / "helpers.py").write_text("")
    assert prove(None, trimmed, full, ["app_lib"]).proved


def test_unused_app_modules_are_those_no_import_reaches_and_the_trace_never_opened(tmp_path: Path) -> None:
    app = tmp_path / "app"
    files = {
        "manage.py": "import sys\n",
        "site_cfg/__init__.py": "",
        "site_cfg/wsgi.py": "from . import settings\nfrom shop.views import index\n",
        "site_cfg/settings.py": "",
        "shop/__init__.py": "",
        "shop/views.py": "from .models import Item\n",
        "shop/models.py": "",
        "shop/migrations/__init__.py": "",
        "shop/migrations/0001_initial.py": "",
        "shop/exports.py": "from .models import Item\n",
    }
    for rel, text in files.items():
        (app / rel).parent.mkdir(parents=True, exist_ok=True)
        (app / rel).write_text(text)
    traced = {str(app / "shop/migrations/__init__.py"), str(app / "shop/migrations/0001_initial.py")}
    run = "python -m gunicorn site_cfg.wsgi:application --bind 0.0.0.0:{port}"
    unused = unused_modules(AppFiles(app), sorted(files), Path("manage.py"), run, traced)
    assert unused == ["shop/exports.py"]


def test_an_unknown_trim_level_is_refused_with_the_choices(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    with pytest.raises(BadRequest, match="--trim is safe or traced, got 'all'"):
        K8orizeRequest(app_dir=tmp_path / "app", out=tmp_path / "out", trim="all").validate()
    assert K8orizeRequest(app_dir=tmp_path / "app", out=tmp_path / "out").trim == "safe"


def test_traced_leaves_out_the_shared_objects_the_loader_never_opened(tmp_path: Path) -> None:
    """A loaded distribution's native code the trace never loaded (pyarrow's Flight beside the IPC it
    used) goes at the traced level only, listed; what the loader opened stays, whether it named the file
    through `$ORIGIN/..` (auditwheel's `<package>.libs/`) or through a link. A distribution the app's
    code imports but the trace never reached keeps all of its native code."""
    site = tmp_path / "site-packages"
    native = ("arrowish/_ipc.so", "arrowish/_flight.so", "arrowish.libs/libdep.so.1", "arrowish/libcore.so.1")
    dist(site, "arrowish", {"arrowish/__init__.py": "", **dict.fromkeys(native, "")})
    dist(site, "xmlish", {"xmlish/__init__.py": "", "xmlish/etree.so": ""})
    for rel in (*native, "xmlish/etree.so"):
        shutil.copy2(_json.__file__, site / rel)  # real ELF shared objects
    (site / "arrowish" / "libcore.so").symlink_to("libcore.so.1")  # the loader opens the link's name
    traced = {
        str(site / "arrowish/__init__.py"),
        str(site / "arrowish/_ipc.so"),
        str(site / "arrowish/../arrowish.libs/libdep.so.1"),
        str(site / "arrowish/libcore.so"),
    }
    dists = installed(site)
    in_site = trim.opened_in_site(traced, site)
    assert {"arrowish.libs/libdep.so.1", "arrowish/libcore.so.1"} <= in_site
    roots = trim.closure_roots(trim.touched_distributions(in_site, dists), {"arrowish", "xmlish"}, dists, [])
    plan = trim.plan_site(site, dists, in_site, roots, ())
    layers = {}
    for level in trim.LEVELS:
        tally = trim.TrimTally()
        trim.trim_site_packages(site, dists, plan, level, tmp_path / level, tmp_path / "scratch", tally)
        layers[level] = tally.result()
    shipped = kept_files(tmp_path / "traced")
    assert {"arrowish/_ipc.so", "arrowish.libs/libdep.so.1", "arrowish/libcore.so.1"} <= shipped
    assert "xmlish/etree.so" in shipped  # imported by the app's code, never traced: whole
    assert "arrowish/_flight.so" not in shipped and "arrowish/_flight.so" in kept_files(tmp_path / "safe")
    narrow, safe = layers["traced"], layers["safe"]
    assert narrow.untraced_shared_objects == safe.untraced_shared_objects == ("arrowish/_flight.so",)
    flight = (site / "arrowish/_flight.so").stat().st_size
    assert narrow.removed[trim.UNTRACED_SHARED_OBJECTS] == flight
    assert safe.levels["traced"].removed[trim.UNTRACED_SHARED_OBJECTS] == flight  # what traced would give
    assert trim.UNTRACED_SHARED_OBJECTS not in safe.levels["safe"].removed
