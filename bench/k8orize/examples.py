"""The example apps, each with the options its README gives: the benchmark and the integration tests
k8orize them the same way (`Example.request`)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from k8orize.request import K8orizeRequest

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Example:
    """One example app and how it is run, probed and shipped."""

    name: str
    folder: Path
    run: str
    probes: tuple[str, ...]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    #: How much smaller the app layer must be at each trim level (issue 12; issue 5's 70% for the
    #: Streamlit example at the traced level).
    min_reduction: Mapping[str, float] = field(default_factory=dict)
    #: Issue 11's target: the whole run, build and verification included, within this many seconds.
    max_wall: float | None = None

    def request(
        self,
        out: Path,
        *,
        base_image: str,
        push: str,
        sandbox: str | None = None,
        installer: str = "auto",
        trim: str = "safe",
    ) -> K8orizeRequest:
        """The whole k8orization: traced, trimmed at `trim`, the image built FROM `base_image` and pushed
        to `push` (REGISTRY/REPO), with `--sandbox gvisor` when asked."""
        return K8orizeRequest(
            app_dir=self.folder,
            out=out,
            name=self.name,
            port=self.port,
            run=self.run,
            env=dict(self.env),
            probes=self.probes,
            installer=installer,
            base_image=base_image,
            push=push,
            sandbox=sandbox,
            trim=trim,
        )


def examples() -> tuple[Example, ...]:
    """The examples, built at call time (the Flask app's session key is fresh for every invocation)."""
    return (
        Example(
            "streamlit-example",
            REPO / "examples" / "streamlit-app",
            "python -m streamlit run app.py --server.port {port} --server.headless true "
            "--browser.gatherUsageStats false",
            ("http://127.0.0.1:{port}/_stcore/health", "http://127.0.0.1:{port}/"),
            8501,
            min_reduction={"traced": 70.0},
            max_wall=120.0,
        ),
        Example(
            "streamlit-dashboard",
            REPO / "examples" / "streamlit-dashboard",
            "python -m streamlit run app.py --server.port {port} --server.headless true "
            "--browser.gatherUsageStats false",
            ("http://127.0.0.1:{port}/_stcore/health", "http://127.0.0.1:{port}/"),
            8501,
            min_reduction={"safe": 20.0, "traced": 30.0},
        ),
        Example(
            "flask-example",
            REPO / "examples" / "flask-app",
            "python app.py",
            ("http://127.0.0.1:{port}/health", "http://127.0.0.1:{port}/"),
            8080,
            env={"PORT": "{port}", "SECRET_KEY": secrets.token_hex(24), "GREETING": "hi"},
            min_reduction={"safe": 10.0},
        ),
        Example(
            "fastapi-example",
            REPO / "examples" / "fastapi-app",
            "python -m uvicorn main:app --host 0.0.0.0 --port {port}",
            ("http://127.0.0.1:{port}/health", "http://127.0.0.1:{port}/"),
            8000,
            min_reduction={"safe": 10.0},
        ),
        Example(
            "django-example",
            REPO / "examples" / "django-app",
            "python -m gunicorn notes_site.wsgi:application --bind 0.0.0.0:{port} --workers 2 --preload "
            "--access-logfile -",
            (
                "http://127.0.0.1:{port}/health",
                "http://127.0.0.1:{port}/",
                "http://127.0.0.1:{port}/static/notes/style.css",
                "http://127.0.0.1:{port}/static/admin/css/base.css",
            ),
            8000,
            env={"DJANGO_SECRET_KEY": secrets.token_hex(32)},
            min_reduction={"safe": 10.0},
        ),
    )


def example(name: str) -> Example:
    """The example called `name` (streamlit-example, streamlit-dashboard, flask-example,
    fastapi-example, django-example)."""
    return next(e for e in examples() if e.name == name)
