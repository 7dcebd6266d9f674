"""The README keeps its promises: the quick start CI runs, every setting, every command."""

from __future__ import annotations

from bot.app import default_registry
from bot.settings import settings_table
from tests.support.tools import ROOT

README = (ROOT / "README.md").read_text()


def test_quick_start_is_two_commands_and_ci_runs_the_test_one():
    fence = README.index("```sh", README.index("## Quick start")) + len("```sh")
    block = README[fence : README.index("```", fence)]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make serve", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_setting_is_in_the_table():
    assert settings_table() in README, "regenerate the table with `k8or settings`"


def test_every_command_is_listed():
    for spec in default_registry():
        assert f"`{spec.usage}`" in README, spec.name
