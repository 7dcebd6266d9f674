"""How an integration reaches a tool: the connector, and the sign-in of the person who ran the command."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from actions import integration_messages as words
from bot.services import Services
from connectors import errors
from connectors.base import Connector, Credentials

C = TypeVar("C", bound=Connector)


@dataclass(frozen=True)
class Actor:
    """The person who ran the deploy, rollback or resolve: their k8or key and their name."""

    key: str
    name: str


class Reach:
    """One person's way to the tools; every failure is a ready ✗ line, never an exception."""

    def __init__(self, services: Services, actor: Actor) -> None:
        self.services, self.actor = services, actor

    async def connector(self, service: str, kind: type[C]) -> tuple[C, Credentials] | str:
        """The connector of `kind` and this person's credentials for it, or the ✗ line saying why not."""
        signin = self.services.signin
        connector = signin.connector(service) if signin is not None else None
        if signin is None or not isinstance(connector, kind):
            return words.NOT_CONFIGURED.format(tool=service)
        credentials = await signin.vault.get(self.actor.key, connector.name)
        if credentials is None:
            return self.failed(connector.error(errors.NotSignedIn))
        return connector, credentials

    @staticmethod
    def failed(exc: errors.VerificationError) -> str:
        """A connector's error as one ✗ line (its texts never carry a response body or a secret)."""
        return words.FAILED.format(tool=exc.display_name, reason=exc.reason, action=exc.action).rstrip()
