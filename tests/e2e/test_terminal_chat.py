"""`k8or chat` and `k8or demo` at a terminal, driven through a pseudo-terminal and read off an emulated
screen: Markdown drawn (no `**`, backticks or `|` rows), completion of commands and known values,
history kept across sessions, and progress drawn above the prompt rather than after it (issue 15)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.terminal import Terminal

K8OR = str(Path(sys.executable).with_name("k8or"))


def _environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K8OR_", "Microsoft"))}
    env["K8OR_DATA_DIR"] = str(tmp_path / "data")
    return env


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Terminal]:
    terminal = Terminal([K8OR, "demo", "--port", "0"], _environment(tmp_path), tmp_path)
    terminal.expect(r"^you>")
    yield terminal
    assert terminal.close() == 0


def test_replies_are_drawn_not_printed_as_markdown(demo: Terminal) -> None:
    demo.send("cluster use demo\r")
    demo.expect(r"^Using cluster demo, namespace demo\.$")
    demo.send("auth status\r")
    table = demo.expect(r"^ *Service +Who the service says you are +Expires *$")
    shown = demo.text()
    assert "| --- |" not in shown and "| Service |" not in shown, table
    assert "`" not in shown.split("you> cluster use demo", 1)[1]
    assert "**" not in shown


def test_progress_is_drawn_above_the_prompt(demo: Terminal) -> None:
    demo.send("cluster use demo\r")
    demo.expect(r"^Using cluster demo")
    demo.send("deploy web nginx:1.27\r")
    demo.expect(r"^✓ Rollout of web \(revision 1\): complete")
    demo.expect(r"available 1/1\n(?:.*\n)*you>\s*\Z")  # the prompt is redrawn below the last update
    lines = demo.text().splitlines()
    updates = [line for line in lines if "Rollout of web" in line]
    assert updates and all(line.startswith(("⏳", "✓")) for line in updates), updates
    assert [line for line in lines if line.startswith("you>")] == [
        "you> cluster use demo",
        "you> deploy web nginx:1.27",
        "you>",
    ]


def test_commands_and_known_values_complete(demo: Terminal) -> None:
    demo.send("cluster use d\t")
    demo.expect(r"^you> cluster use demo$")
    demo.send("\r")
    demo.expect(r"^Using cluster demo")
    demo.send("deploy web nginx:1.27\r")
    demo.expect(r"^✓ Rollout of web")
    demo.send("status web\r")
    demo.expect(r"^web — 1/1 available")
    demo.send("describ\t")  # a command name, then the app `status` named
    demo.expect(r"^you> describe$")
    demo.send("w\t")
    demo.expect(r"^you> describe web$")


def test_history_is_kept_across_sessions(tmp_path: Path) -> None:
    env = _environment(tmp_path)
    first = Terminal([K8OR, "chat"], env, tmp_path)
    first.expect(r"^you>")
    first.send("whoami\r")
    first.expect(r"admin")
    assert first.close() == 0
    assert (tmp_path / "data" / "chat-history").read_text().count("whoami") == 1
    second = Terminal([K8OR, "chat"], env, tmp_path)
    second.expect(r"^you>")
    second.send("\x1b[A")  # the up arrow brings back the last line of the earlier session
    second.expect(r"^you> whoami$")
    second.send("\r")
    second.expect(r"admin")
    assert second.close() == 0
