"""The shape the code keeps (issue 9): small modules and short functions in every product package.
The layer contract itself is `.importlinter`, checked by `lint-imports` in `make lint`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.tools import ROOT

PACKAGES = (
    "k8or",
    "bot",
    "policy",
    "dialogs",
    "actions",
    "cluster",
    "k8orize",
    "connectors",
    "redaction",
    "typed_env",
)
MODULE_LINES = 450
FUNCTION_LINES = 40


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_every_product_package_exists(package: str) -> None:
    assert (ROOT / package / "__init__.py").is_file()


def test_no_module_over_450_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > MODULE_LINES
    }
    assert long == {}


def test_no_function_over_40_lines() -> None:
    long = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.name}"] = length
    assert long == {}
