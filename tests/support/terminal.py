"""A program under a pseudo-terminal, read off an emulated screen (pyte) as a person would see it."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

import pyte

COLUMNS, LINES = 120, 300  # tall enough that nothing a test does scrolls off the top


class Terminal:
    """`argv` with a 120x40 pseudo-terminal as stdin, stdout and stderr."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        # No terminal emulator answers prompt_toolkit's cursor-position request here.
        env = {**env, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True
        )
        os.close(slave)
        self.master = master
        self.screen = pyte.Screen(COLUMNS, LINES)
        self._stream = pyte.ByteStream(self.screen)

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def text(self) -> str:
        """The screen's lines, trailing blanks removed."""
        return "\n".join(line.rstrip() for line in self.screen.display).rstrip()

    def expect(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """Read until `pattern` (a multi-line regex) is on the screen."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.text(), re.MULTILINE)
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} never appeared; the screen shows:\n{self.text()[-4000:]}")
            self._read(0.1)

    def _read(self, wait: float) -> None:
        ready, _, _ = select.select([self.master], [], [], wait)
        if ready:
            try:
                self._stream.feed(os.read(self.master, 65536))
            except OSError:  # the program ended and closed its side
                time.sleep(wait)

    def close(self) -> int:
        """Ctrl-C (drops a half-typed line), Ctrl-D, then wait for the program to end (SIGTERM after 20 s)."""
        if self.process.poll() is None:
            self.send("\x03\x04")
        try:
            code = self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGTERM)
            code = self.process.wait(10)
        self._read(0.1)
        os.close(self.master)
        return code
