"""Attack: app code nested so deeply that parsing it raises RecursionError or MemoryError.

Before, the analyzer let the error escape and the whole run ended as "an internal error". Now each
file the analyzer cannot parse is a finding in the report, per file, and the run completes.
"""

from __future__ import annotations

import json

from tests.e2e import test_k8orize_chat as k8orize_chat
from tests.e2e.test_k8orize_chat import APP_FILES, Chat

chat = k8orize_chat.chat

NESTED = {
    "deep_sum.py": "import numpy\nx = 1" + "+1" * 200_000 + "\n",  # RecursionError building the AST
    "deep_minus.py": "import pandas\nx = " + "-" * 100_000 + "1\n",  # MemoryError in the parser
    "broken.py": "import scipy\ndef (:\n",  # plain bad syntax
    "latin1.py": "name = 'Jos\xe9'\n",  # not UTF-8
}


async def test_unparsable_files_are_reported_per_file_and_the_run_completes(chat: Chat) -> None:
    app = chat.app("shop")
    for name, text in NESTED.items():
        (app / name).write_bytes(text.encode("latin-1"))

    await chat.bot.say("k8orize shop --no-trace", user="alice")
    await chat.bot.settle()

    assert "k8orized `shop` in" in chat.message(0).text and "- ✓ analyze" in chat.message(0).text
    reply = chat.message(1).text
    assert "**k8orized `shop`**" in reply and "internal error" not in reply
    assert "Files not read: `broken.py`: not parsable as Python (line 2" in reply
    [out] = chat.outputs()
    report = json.loads((out / "report.json").read_text())
    unreadable = {u["path"]: u["reason"] for u in report["files"]["unreadable"]}
    assert (
        unreadable["deep_sum.py"] == "not parsable as Python (nested too deeply); its imports are not counted"
    )
    assert unreadable["deep_minus.py"].startswith("not parsable as Python (nested too deeply")
    assert unreadable["latin1.py"] == "not UTF-8 text"
    assert set(unreadable) == set(NESTED)
    # The files are still the app's: they are copied into the image, only their imports are unknown.
    assert all((out / "image" / "app" / name).is_file() for name in NESTED)
    assert {"numpy", "pandas", "scipy"}.isdisjoint(report["dependencies"]["missing"])
    assert set(APP_FILES) <= {p.name for p in (out / "image" / "app").iterdir()} | {"requirements.txt"}
