"""The Streamlit example k8orized with tracing: a real session, a trimmed tree, an enforced profile, and
the image built FROM the locally made base, pushed to a local registry and run under runc.

Slow (it installs Streamlit into a fresh venv and builds two images), but CI runs it. Timing targets
live in the benchmark (bench/k8orize); this test asserts behaviour.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from k8orize.engine import K8orizeResult, k8orize
from k8orize.image import BuiltImage, remove_image
from k8orize.request import K8orizeRequest
from testing.registry import LocalRegistry
from tests.support.images import base_image, registry  # noqa: F401  (fixtures)
from tests.support.k8orize import EXAMPLE, PROBES, RUN

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
# Not test_image.py's name: buildah's store is shared by parallel workers, and a build retags its name.
NAME = "streamlit-e2e"


@pytest.fixture(scope="module")
def result(
    tmp_path_factory: pytest.TempPathFactory,
    base_image: str,  # noqa: F811
    registry: LocalRegistry,  # noqa: F811
) -> Iterator[K8orizeResult]:
    out = tmp_path_factory.mktemp("streamlit") / "out"
    done = k8orize(
        K8orizeRequest(
            app_dir=EXAMPLE,
            out=out,
            name=NAME,
            run=RUN,
            probes=PROBES,
            base_image=base_image,
            push=f"{registry.host}/k8or/{NAME}",
        )
    )
    yield done
    image = done.report["image"]
    if image["image_id"]:
        remove_image(BuiltImage(image["reference"] or "", image["image_id"], 0))


def test_the_trace_ran_a_real_session(result: K8orizeResult) -> None:
    trace = result.report["trace"]
    assert trace["session_driver"] == "streamlit-websocket"
    session = trace["run"]["session"]
    assert session["ok"] and session["messages"]["delta"] >= 3
    assert session["script_runs"] == 2 and session["interacted_with"] == ["slider"]  # a user moved the slider
    opened = (result.out / "trace" / "files-opened.txt").read_text()
    assert str(EXAMPLE / "app.py") in opened  # the script itself ran, not just the static shell


def test_unused_dependency_is_reported_and_trimmed(result: K8orizeResult) -> None:
    report = result.report
    assert report["dependencies"]["unused"] == ["tabulate"]
    assert report["dependencies"]["missing"] == []
    sizes = report["sizes"]
    assert "tabulate" in sizes["dropped_distributions"]
    assert {"pyarrow", "pandas"} <= set(sizes["dropped_distributions"])
    assert "streamlit" in sizes["kept_distributions"]
    assert not list((result.out / "image" / "site-packages").glob("tabulate*"))
    assert not list((result.out / "image" / "site-packages").rglob("__pycache__"))
    assert sizes["bytes_after"] < sizes["bytes_before"] / 2


def test_probes_pass_from_the_trimmed_tree(result: K8orizeResult) -> None:
    trimmed = result.report["verification"]["trimmed"]
    assert trimmed["passed"] and trimmed["session"]["ok"]
    assert all(p["ok"] for p in trimmed["probes"])


def test_probes_pass_under_enforcement_and_forbidden_calls_are_refused(result: K8orizeResult) -> None:
    enforced = result.report["verification"]["enforced"]
    assert enforced["run"]["passed"] and enforced["run"]["session"]["ok"]
    assert enforced["denials"] == 0, enforced["denied_calls"]
    assert enforced["run"]["stopped_by_sigterm"]
    assert enforced["refusals"]["mount"]["refused"] and enforced["refusals"]["ptrace"]["refused"]
    assert result.report["seccomp"]["allowed_count"] <= 120


def test_the_shipped_image_holds_a_session_under_runc(result: K8orizeResult) -> None:
    [runc] = result.report["runtime_verification"]
    assert runc["runtime"] == "runc" and runc["passed"], runc["problems"]
    assert runc["shipped"]["run"]["session"]["ok"] and runc["shipped"]["run"]["stopped_by_sigterm"]
    assert runc["denials"] == 0, runc["denied_calls"]
    assert runc["refusals"]["mount"]["refused"] and runc["refusals"]["ptrace"]["refused"]


def test_output_is_clean_under_the_linters(result: K8orizeResult) -> None:
    checks = result.report["checks"]
    assert all(c["ran"] and c["passed"] for c in checks.values()), checks
    assert "failed 0" in checks["checkov"]["detail"]  # CKV_K8S_43 too: the pushed digest is pinned
    assert result.report["checks_failed"] == []
    pushed = result.report["image"]["pushed"]
    assert (
        pushed is not None
        and pushed["pinned"] in (result.out / "manifests" / "30-deployment.yaml").read_text()
    )


def test_metrics_and_structured_logs(result: K8orizeResult) -> None:
    probes = result.report["verification"]["trimmed"]["probes"]
    assert any(p["url"].endswith("/_stcore/metrics") and p["ok"] for p in probes)
    log = (result.out / "runs" / "trimmed.log").read_text()
    assert '{"event": "page_rendered", "samples": 8' in log
    assert '{"event": "page_rendered", "samples": 1' in log  # the rerun after the slider moved
    assert "prometheus.io/scrape" in (result.out / "manifests" / "30-deployment.yaml").read_text()
    assert Path(result.picture).is_file()


def test_report_keeps_the_recorded_key_tree(result: K8orizeResult) -> None:
    """The traced report has the recorded key tree (tests/support/data/report_shape_traced.json): the
    review surface of its format, image and runc verification included."""
    import json

    from tests.support.report_shape import key_tree, recorded

    assert json.dumps(key_tree(result.report)) == json.dumps(recorded("report_shape_traced"))
