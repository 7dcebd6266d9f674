"""A package index on 127.0.0.1, port 0, shaped like PyPI's simple API, for tests of what k8orize fetches.

    with local_index() as index:
        index.add(sdist("tiny", "1.0", {"tiny.py": "X = 1\\n"}))   # a hand-made sdist
        index.add(wheel("leaf", "2.0", {"leaf.py": ""}, requires=["six"]))
        index.url                     # "http://127.0.0.1:41234/simple": PIP_INDEX_URL
        index.fetched                 # file names downloaded so far

Project pages are PEP 503 HTML (each link with its `#sha256=` and `data-requires-python`), or PEP 691
JSON to a client that asks for it (`Accept: application/vnd.pypi.simple.v1+json`) unless `json=False`.
`add(..., listed_sha256=...)` lists a hash other than the file's own: a tampered file or a broken mirror.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import tarfile
import threading
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from packaging.utils import canonicalize_name

_JSON = "application/vnd.pypi.simple.v1+json"
WHEEL_FILE = b"Wheel-Version: 1.0\nGenerator: testing\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


@dataclass(frozen=True)
class Dist:
    """A distribution file: its name as the index lists it, and its bytes."""

    filename: str
    content: bytes
    project: str
    requires_python: str | None = None


def sdist(name: str, version: str, files: Mapping[str, str | bytes], pyproject: str | None = None) -> Dist:
    """A .tar.gz sdist: files under `name-version/`, with pyproject.toml when given, and PKG-INFO."""
    top = f"{canonicalize_name(name).replace('-', '_')}-{version}"
    members = {**files, "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"}
    if pyproject is not None:
        members["pyproject.toml"] = pyproject
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, content in members.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return Dist(f"{top}.tar.gz", buffer.getvalue(), name)


def wheel(name: str, version: str, files: Mapping[str, str], requires: Sequence[str] = ()) -> Dist:
    """A pure-Python wheel (py3-none-any) holding files, with Requires-Dist lines."""
    stem = f"{canonicalize_name(name).replace('-', '_')}-{version}"
    info = f"{stem}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    members = {
        **{path: text.encode() for path, text in files.items()},
        f"{info}/METADATA": metadata.encode(),
        f"{info}/WHEEL": WHEEL_FILE,
    }
    record = "".join(f"{path},sha256={_record_hash(data)},{len(data)}\n" for path, data in members.items())
    members[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in members.items():
            archive.writestr(path, data)
    return Dist(f"{stem}-py3-none-any.whl", buffer.getvalue(), name)


def _record_hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


@dataclass
class LocalIndex:
    """What the index serves (project -> files) and what it was asked for."""

    port: int = 0
    json: bool = True  # answer a client that asks for PEP 691 JSON with it (else HTML only)
    files: dict[str, list[tuple[Dist, str]]] = field(default_factory=dict)  # project -> (dist, listed sha)
    fetched: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # content types of the project pages served

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple"

    def add(self, dist: Dist, listed_sha256: str | None = None) -> None:
        listed = listed_sha256 or hashlib.sha256(dist.content).hexdigest()
        self.files.setdefault(canonicalize_name(dist.project), []).append((dist, listed))

    def page(self, project: str, as_json: bool) -> tuple[str, bytes]:
        entries = self.files.get(canonicalize_name(project), [])
        if as_json:
            files = [
                {
                    "filename": d.filename,
                    "url": f"../../files/{d.filename}",
                    "hashes": {"sha256": sha},
                    "requires-python": d.requires_python,
                }
                for d, sha in entries
            ]
            body = {"meta": {"api-version": "1.0"}, "name": project, "files": files}
            return _JSON, json.dumps(body).encode()
        links = "".join(_link(d, sha) for d, sha in entries)
        return "text/html", f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()

    def file(self, filename: str) -> bytes | None:
        for entries in self.files.values():
            for dist, _ in entries:
                if dist.filename == filename:
                    return dist.content
        return None


def _link(dist: Dist, sha: str) -> str:
    python = f' data-requires-python="{html.escape(dist.requires_python)}"' if dist.requires_python else ""
    return f'<a href="../../files/{dist.filename}#sha256={sha}"{python}>{dist.filename}</a><br>\n'


def _handler(index: LocalIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            parts = [p for p in self.path.split("?")[0].split("/") if p]
            if len(parts) == 2 and parts[0] == "simple":
                as_json = index.json and _JSON in (self.headers.get("Accept") or "")
                if canonicalize_name(parts[1]) not in index.files:
                    return self._send(404, "text/plain", b"not found")
                kind, body = index.page(parts[1], as_json)
                index.pages.append(kind)
                return self._send(200, kind, body)
            content = index.file(parts[1]) if len(parts) == 2 and parts[0] == "files" else None
            if content is None:
                return self._send(404, "text/plain", b"not found")
            index.fetched.append(parts[1])
            return self._send(200, "application/octet-stream", content)

        def _send(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the http.server API
            return

    return Handler


@contextmanager
def local_index(json: bool = True) -> Iterator[LocalIndex]:
    """A running index on 127.0.0.1 (port 0), stopped on exit."""
    index = LocalIndex(json=json)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(index))
    index.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="local-package-index", daemon=True)
    thread.start()
    try:
        yield index
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
