"""Attack: report.json (which a pull request carries to GitHub) named absolute host paths.

Now the report names the app's source as the person named it (`workspace:shop`, `github:octo/shop`),
or relative to OUT from the command line, and no host folder of k8or's appears in report.json,
SUMMARY.md or README.md.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from k8orize.engine import k8orize
from k8orize.request import K8orizeRequest
from tests.e2e import test_k8orize_chat as k8orize_chat
from tests.e2e.test_k8orize_chat import APP_FILES, Chat

chat = k8orize_chat.chat

WRITTEN = ("report.json", "SUMMARY.md", "README.md")


async def test_chat_reports_name_the_source_not_the_host(chat: Chat) -> None:
    chat.app("shop")
    chat.fake.seed_repository("octo/shop", APP_FILES)
    await chat.bot.say("k8orize shop --no-trace", user="alice")
    await chat.bot.say("k8orize repo octo/shop --no-trace --pr", user="alice")
    await chat.bot.settle()

    sources = []
    for out in chat.outputs():
        sources.append(json.loads((out / "report.json").read_text())["app"]["source"])
        for name in WRITTEN:
            assert str(chat.data_dir) not in (out / name).read_text(), name
    assert sorted(sources) == ["github:octo/shop", "workspace:shop"]
    sent = base64.b64decode(chat.fake.files["k8or/report.json"]).decode()
    assert str(chat.data_dir) not in sent and '"source": "github:octo/shop"' in sent
    assert str(chat.data_dir) not in chat.message(2).text + chat.message(3).text


def test_the_command_line_names_the_app_relative_to_out(tmp_path: Path) -> None:
    app = tmp_path / "apps" / "shop"
    app.mkdir(parents=True)
    for name, text in APP_FILES.items():
        (app / name).write_text(text)
    result = k8orize(K8orizeRequest(app_dir=app, out=tmp_path / "outputs" / "shop", trace=False))
    assert result.report["app"]["source"] == "../../apps/shop"
    for name in WRITTEN:
        assert str(tmp_path) not in (result.out / name).read_text(), name
