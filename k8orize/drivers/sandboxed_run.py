"""The run harness: one run of the app inside its sandbox, driven from inside.

Run by the engine as `python -I -S sandboxed_run.py` with the base interpreter (no site-packages: no
code of the app's distributions runs in here): reads a RunSpec as JSON on stdin, starts the app with
its output on this process's stderr (the engine's run log), waits for its probes, drives its session,
stops it, and prints one JSON verdict line. It makes itself non-dumpable first, so the app (the same
UID) can neither ptrace it nor reach its stdout through /proc.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

PR_SET_DUMPABLE = 4


def main() -> int:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the folder that holds k8orize/
    from k8orize.runner import harness_main

    return harness_main(sys.stdin, sys.stdout, sys.stderr.buffer)


if __name__ == "__main__":
    sys.exit(main())
