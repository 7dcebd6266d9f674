"""Import a list of modules from one site-packages folder and say which failed (run inside the sandbox).

    python -I -S reimport_probe.py SITE_PACKAGES MODULES_JSON

Run by the engine with the base interpreter, no site of its own (-S) and no environment (-I): only
SITE_PACKAGES (its .pth files processed, as site.py would) and the standard library are importable.
Prints one JSON line: {"imported": N, "failed": {module: "ExceptionType: message"}}. Whatever the
modules print goes to stderr, so nothing they write can pass for the verdict.
"""

from __future__ import annotations

import importlib
import json
import os
import site
import sys


def main(argv: list[str]) -> int:
    folder, listing = argv[1], argv[2]
    with open(listing, encoding="utf-8") as handle:
        modules: list[str] = json.load(handle)
    verdict = os.dup(1)
    os.dup2(2, 1)  # the modules' own output goes to stderr
    site.addsitedir(folder)
    imported, failed = 0, {}
    for name in modules:
        try:
            importlib.import_module(name)
            imported += 1
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are findings too
            failed[name] = f"{type(exc).__name__}: {str(exc)[:200]}"
    sys.stdout.flush()
    os.write(verdict, (json.dumps({"imported": imported, "failed": failed}) + "\n").encode())
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    os._exit(code)  # a thread some module started must not keep the probe alive
