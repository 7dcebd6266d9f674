"""Helpers for the k8orization engine's tests: tools, tiny apps, fake site-packages, the example's options.

The `http_app` fixture is imported by the conftest.py of each layer that uses it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.support.tools import tool  # noqa: F401  (the k8orize tests' import)

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "streamlit-app"

# How the Streamlit example is run, probed and named: the traced run and the untraced report use the same.
RUN = (
    "python -m streamlit run app.py --server.port {port} --server.headless true "
    "--browser.gatherUsageStats false"
)
PROBES = ("http://127.0.0.1:{port}/_stcore/health", "http://127.0.0.1:{port}/")
# No image reference here: a test that needs a digest builds and pushes the image (tests/support/images.py:
# the `base_image` and `registry` fixtures, `push=`) and the manifests pin what the registry serves.

HTTP_APP = '''
"""A stdlib-only web app: enough to exercise the whole engine in a few seconds."""
import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"path": self.path, "ok": True}).encode()
        self.send_response(200 if self.path in ("/", "/health") else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print(json.dumps({"event": "request", "line": fmt % args}), flush=True)


server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
server.serve_forever()
'''

# The same app listening on every interface, as an app in a pod must: the kubelet's probes and the Service
# come to the pod's IP, which the runc verification checks (k8orize/runtime_verify.py).
POD_HTTP_APP = HTTP_APP.replace('("127.0.0.1", int(sys.argv[1]))', '("0.0.0.0", int(sys.argv[1]))')


@pytest.fixture
def http_app(tmp_path: Path) -> Path:
    """A tiny Python app with no dependencies, plus redundant files and a secret that must not be copied."""
    app = tmp_path / "tiny-web"
    app.mkdir()
    (app / "app.py").write_text(textwrap.dedent(HTTP_APP))
    (app / "requirements.txt").write_text("# no third-party dependencies\n")
    (app / "README.md").write_text("# tiny web\n")
    (app / "tests").mkdir()
    (app / "tests" / "test_app.py").write_text("def test_nothing():\n    pass\n")
    (app / ".env").write_text("API_TOKEN=do-not-ship\n")
    (app / "notes.ipynb").write_text("{}\n")
    return app


def fake_distribution(
    site: Path, name: str, version: str, files: dict[str, str], top_level: list[str]
) -> None:
    """Write an installed distribution (dist-info with METADATA, RECORD, top_level.txt) into site."""
    meta = site / f"{name.replace('-', '_')}-{version}.dist-info"
    meta.mkdir(parents=True)
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n")
    (meta / "top_level.txt").write_text("\n".join(top_level) + "\n")
    for rel, text in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)
    record = [f"{rel},," for rel in files] + [
        f"{meta.name}/{f},," for f in ("METADATA", "RECORD", "top_level.txt")
    ]
    (meta / "RECORD").write_text("\n".join(record) + "\n")
