"""The example's own test: the script renders without an exception (run with streamlit's AppTest)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest


def test_app_renders() -> None:
    app = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py")).run()
    assert not app.exception
    assert app.title[0].value == "k8or example app"
