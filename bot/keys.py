"""Where the app keeps its long-lived parts (aiohttp `AppKey`s), importable by every edge."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from bot.adapter import K8orAdapter
    from bot.pipeline import K8orBot
    from bot.services import Services

SERVICES: web.AppKey[Services] = web.AppKey("services")
BOT: web.AppKey[K8orBot] = web.AppKey("bot")
ADAPTER: web.AppKey[K8orAdapter] = web.AppKey("adapter")
HTTP: web.AppKey[aiohttp.ClientSession] = web.AppKey("http", aiohttp.ClientSession)
