"""The `k8or` command (and `python -m k8or`), started with the garbage collector off while it imports.

What `k8or serve` imports lives as long as the process, so collecting while those objects are made
is wasted work (some 15 ms of a start, measured by bench/turns). `serve` keeps the collector off
until the app is up: bot.app freezes what start-up made, then turns it on. Every other command turns
it on before it runs.
"""

from __future__ import annotations

import gc
import sys


def main() -> int:
    gc.disable()
    from k8or.cli import main as run

    if sys.argv[1:2] != ["serve"]:
        gc.enable()
    return run()


if __name__ == "__main__":
    sys.exit(main())
