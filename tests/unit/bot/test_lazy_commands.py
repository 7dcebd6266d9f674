"""Command families whose handlers load on first use: every declared handler exists and is async, and
a missing one is named. That starting k8or imports none of them is tests/e2e/test_lean_start.py's."""

from __future__ import annotations

import pytest

from bot.commands.grammar import arg
from bot.commands.registry import CommandRegistry, CommandSet, HandlerRef
from bot.errors import RegistrationError
from k8or.app import default_registry


def test_every_built_in_command_has_its_handler() -> None:
    registry = default_registry()
    lazy = [spec for spec in registry if isinstance(spec.handler, HandlerRef)]
    assert len(lazy) >= 20  # cluster, oncall, notify, k8orize, release and integrations
    registry.check_handlers()  # imports each: a missing or synchronous one raises


def test_a_misspelled_handler_is_named_by_the_check() -> None:
    typo = CommandSet(handlers="dialogs.oncall_handlers")
    typo.declare("lgos", "Show logs.", params=[arg("app", "Which app")])
    registry = CommandRegistry().include(typo)
    with pytest.raises(RegistrationError, match=r"dialogs\.oncall_handlers\.lgos is not an async function"):
        registry.check_handlers()


def test_a_synchronous_handler_is_refused() -> None:
    sync = CommandSet(handlers="json")
    sync.declare("dump", "Dump it.", handler="dumps")
    with pytest.raises(RegistrationError, match=r"json\.dumps is not an async function"):
        CommandRegistry().include(sync).check_handlers()


def test_declaring_needs_a_handlers_module() -> None:
    with pytest.raises(RegistrationError, match="without a handlers module"):
        CommandSet().declare("logs", "Show logs.")


def test_a_handler_loads_with_its_first_call() -> None:
    ref = HandlerRef("dialogs.oncall_handlers", "logs")
    function = ref.resolve()
    assert function.__module__ == "dialogs.oncall_handlers" and ref.resolve() is function


def test_the_handler_name_follows_the_command_name() -> None:
    commands = CommandSet(handlers="dialogs.notify_handlers")
    commands.declare("notify on", "Subscribe.")
    [spec] = commands.specs
    assert isinstance(spec.handler, HandlerRef)
    assert (spec.handler.module, spec.handler.name) == ("dialogs.notify_handlers", "notify_on")


@pytest.mark.parametrize("declare", ["command", "declare"])
def test_a_misspelt_declaration_is_refused(declare: str) -> None:
    """`destrutive=True` must not declare a command that runs without confirmation."""
    commands = CommandSet(handlers="dialogs.cluster_handlers")
    with pytest.raises(RegistrationError, match="unknown declaration destrutive"):
        if declare == "declare":
            commands.declare("delete", "Delete an app.", destrutive=True)  # type: ignore[call-arg]
        else:

            @commands.command("wipe", "Wipe an app.", destrutive=True)  # type: ignore[call-arg]
            async def wipe(ctx: object, args: object) -> None: ...

    assert commands.specs == []


async def test_the_first_call_imports_its_handler_and_runs_it() -> None:
    calls: list[str] = []
    ref = HandlerRef("tests.unit.bot.lazy_handler_module", "record")
    assert await ref(calls, "first") == "first"  # type: ignore[arg-type]
    assert await ref(calls, "second") == "second"  # type: ignore[arg-type]
    assert calls == ["first", "second"]
