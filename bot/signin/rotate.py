"""Re-encrypt every stored credential under the newest vault key: `python -m bot.signin.rotate`.

Rotation: set K8OR_VAULT_KEY=<new>,<old> (newest first) everywhere, run this once, then drop <old>.
"""

from __future__ import annotations

import asyncio
import sys

from bot.db import Database
from bot.settings import Settings, load_settings
from connectors.settings import VaultSettings
from connectors.vault import CredentialVault, VaultKeyError, load_keys


async def rotate(settings: Settings) -> int:
    """Re-encrypt the vault named by `settings`; the number of credentials rewritten."""
    keys = load_keys(
        VaultSettings(key=settings.vault_key, key_file=settings.vault_key_file), settings.data_dir
    )
    db = Database(settings.effective_database_url, settings.database_schema)
    try:
        await db.upgrade()
        return await CredentialVault(db, keys).rotate()
    finally:
        await db.dispose()


def main() -> int:
    """Command-line entry: prints how many credentials were re-encrypted."""
    try:
        count = asyncio.run(rotate(load_settings()))
    except VaultKeyError as exc:
        print(f"k8or vault: {exc}", file=sys.stderr)
        return 2
    print(f"Re-encrypted {count} credential(s) under the newest key.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
