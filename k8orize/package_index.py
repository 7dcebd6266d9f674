"""The package index pip is configured to use, read as data through its simple API.

`pip config list` says which indexes (index-url and extra-index-url, from pip's files and PIP_*
variables), which certificate bundle and which timeout pip uses here; k8orize asks the same indexes.
A project's page is asked for as PEP 691 JSON and read as PEP 503 HTML when the index serves that;
both give each file's URL, its sha256, its Requires-Python and whether it was yanked. Nothing fetched
here is ever run: it is parsed, hashed and written to a file.
"""

from __future__ import annotations

import ast
import json
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import IO

from packaging.utils import canonicalize_name

DEFAULT_INDEX = "https://pypi.org/simple"
PAGE_BYTES = 64 * 2**20  # the largest project page read (PyPI's biggest are a few MB)
ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
_JSON = "application/vnd.pypi.simple.v1+json"
_TRUE = ("1", "true", "yes", "on")
_VARIANTS = (":env:", "download", "global")  # pip's precedence for `pip download`, strongest first


class IndexUnreachable(OSError):
    """The index did not answer, answered with an error, or sent more than a page may hold;
    `missing` when it answered that there is no such page (HTTP 404, no such file)."""

    def __init__(self, why: str, missing: bool = False) -> None:
        super().__init__(why)
        self.missing = missing


@dataclass(frozen=True)
class IndexConfig:
    """Where pip looks for packages here, and how it connects."""

    urls: tuple[str, ...] = (DEFAULT_INDEX,)
    cafile: str | None = None
    timeout: float = 15.0


@dataclass(frozen=True)
class IndexFile:
    """One file a project page lists."""

    filename: str
    url: str = field(repr=False)  # may carry the index's credentials
    index: str = field(repr=False)
    sha256: str | None = None
    requires_python: str | None = None
    yanked: bool = False


def shown(url: str) -> str:
    """The URL without its user and password: what a message or a log may say."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _pip_settings(env: dict[str, str]) -> dict[str, str]:
    """`pip config list` as {key: value}: what pip's own files and PIP_* variables say here."""
    cmd = [sys.executable, "-m", "pip", "config", "list"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, check=False)
    settings: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition("=")
        try:
            settings[key] = str(ast.literal_eval(value)) if sep else ""
        except (ValueError, SyntaxError):
            continue
    return settings


def _setting(settings: dict[str, str], name: str) -> str | None:
    for variant in _VARIANTS:
        if f"{variant}.{name}" in settings:
            return settings[f"{variant}.{name}"]
    return None


def index_config(env: dict[str, str]) -> IndexConfig:
    """The indexes pip uses with env (its files and PIP_* variables); none with no-index."""
    settings = _pip_settings(env)
    if (_setting(settings, "no-index") or "").lower() in _TRUE:
        urls: tuple[str, ...] = ()
    else:
        first = _setting(settings, "index-url") or DEFAULT_INDEX
        urls = (first, *(_setting(settings, "extra-index-url") or "").split())
    timeout = _setting(settings, "timeout") or _setting(settings, "default-timeout")
    try:
        seconds = float(timeout) if timeout else 15.0
    except ValueError:
        seconds = 15.0
    return IndexConfig(tuple(dict.fromkeys(urls)), _setting(settings, "cert"), seconds)


def open_url(url: str, config: IndexConfig, accept: str = "*/*") -> tuple[str, IO[bytes]]:
    """(content type, a stream) of url: http(s) with the index's certificates and credentials, or a
    file (a folder reads as its index.html, as pip reads a file:// index)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        path = Path(urllib.request.url2pathname(parts.path))
        path = path / "index.html" if path.is_dir() else path
        try:
            return ("text/html" if path.suffix == ".html" else "application/octet-stream"), path.open("rb")
        except OSError as exc:
            raise IndexUnreachable(exc.strerror or str(exc), isinstance(exc, FileNotFoundError)) from None
    if parts.scheme not in ("http", "https"):
        raise IndexUnreachable(f"{parts.scheme}: URLs are not read")
    request = urllib.request.Request(_without_credentials(parts), headers={"Accept": accept})
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        manager.add_password(None, request.full_url, user, password)
        opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(manager), _https(config))
    else:
        opener = urllib.request.build_opener(_https(config))
    try:
        response = opener.open(request, timeout=config.timeout)
    except urllib.error.HTTPError as exc:
        raise IndexUnreachable(f"HTTP {exc.code}", exc.code == 404) from None
    except (urllib.error.URLError, OSError) as exc:
        raise IndexUnreachable(str(getattr(exc, "reason", exc))) from None
    return response.headers.get_content_type(), response


def _without_credentials(parts: urllib.parse.SplitResult) -> str:
    netloc = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _https(config: IndexConfig) -> urllib.request.HTTPSHandler:
    return urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=config.cafile))


def project_files(index: str, project: str, config: IndexConfig) -> list[IndexFile]:
    """Every file the index lists for project (raises IndexUnreachable); [] when it has no such page."""
    page = f"{index.rstrip('/')}/{canonicalize_name(project)}/"
    try:
        kind, stream = open_url(page, config, ACCEPT)
    except IndexUnreachable as exc:
        if exc.missing:
            return []
        raise
    with stream:
        body = stream.read(PAGE_BYTES + 1)
    if len(body) > PAGE_BYTES:
        raise IndexUnreachable(f"its page is larger than {PAGE_BYTES // 2**20} MB")
    text = body.decode("utf-8", errors="replace")
    return _json_files(text, page, index) if kind == _JSON else _html_files(text, page, index)


def _json_files(text: str, page: str, index: str) -> list[IndexFile]:
    """PEP 691: {"files": [{"filename", "url", "hashes": {"sha256"}, "requires-python", "yanked"}]}."""
    try:
        entries = json.loads(text).get("files", [])
    except (ValueError, AttributeError):
        raise IndexUnreachable("its JSON page is not readable") from None
    files = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
            continue
        hashes = entry.get("hashes") if isinstance(entry.get("hashes"), dict) else {}
        sha = hashes.get("sha256") if isinstance(hashes, dict) else None
        python = entry.get("requires-python")
        files.append(
            IndexFile(
                filename=entry["filename"],
                url=urllib.parse.urljoin(page, str(entry.get("url", ""))),
                index=index,
                sha256=sha.lower() if isinstance(sha, str) else None,
                requires_python=python if isinstance(python, str) else None,
                yanked=bool(entry.get("yanked")),
            )
        )
    return files


class _Anchors(HTMLParser):
    """PEP 503: the attributes of every <a> (href, data-requires-python, data-yanked)."""

    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))


def _html_files(text: str, page: str, index: str) -> list[IndexFile]:
    parser = _Anchors()
    parser.feed(text)
    files = []
    for anchor in parser.anchors:
        href = anchor.get("href")
        if not href:
            continue
        url = urllib.parse.urljoin(page, href)
        path, _, fragment = url.partition("#")
        algo, _, digest = fragment.partition("=")
        filename = urllib.parse.unquote(urllib.parse.urlsplit(path).path.rsplit("/", 1)[-1])
        files.append(
            IndexFile(
                filename=filename,
                url=path,
                index=index,
                sha256=digest.lower() if algo == "sha256" and digest else None,
                requires_python=anchor.get("data-requires-python"),
                yanked="data-yanked" in anchor,
            )
        )
    return files
