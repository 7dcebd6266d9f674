"""`python -m bot.migrations revision "what changed"`: write the next revision from the models.

For developers: after changing `bot/schema.py` (or a library's table), this migrates a scratch SQLite
database to the newest revision, compares it with the models and writes `versions/NNNN_<slug>.py`
with the difference, for review; then set `HEAD` in `bot/migrations/__init__.py` to its number (a test
checks it). Operators use `k8or db upgrade`.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from bot.migrations.runner import alembic_config, upgrade_to_head


def write_revision(message: str) -> Path:
    """The new revision file, numbered after the newest one."""
    number = len(list(ScriptDirectory.from_config(alembic_config()).walk_revisions())) + 1
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'k8or.db'}")
        try:
            with engine.begin() as connection:
                upgrade_to_head(connection)
                script = command.revision(
                    alembic_config(connection), message=message, autogenerate=True, rev_id=f"{number:04d}"
                )
        finally:
            engine.dispose()
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.migrations", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    revision = commands.add_parser("revision", help="write the next revision from the models")
    revision.add_argument("message", help="what changed, in a few words")
    args = parser.parse_args(argv)
    path = write_revision(args.message)
    print(f"{path}\nreview it, then set HEAD = {path.name[:4]!r} in bot/migrations/__init__.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
