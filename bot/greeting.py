"""The hello k8or says when it is added to a conversation: the three commands most worth trying."""

from __future__ import annotations

from botbuilder.schema import Activity, ActivityTypes

from bot import messages
from bot.commands.registry import CommandRegistry

# Most useful first; the first three this k8or has are offered.
FIRST_COMMANDS = ("cluster use", "status", "deploy", "k8orize", "help")


def joined(activity: Activity) -> bool:
    """Was k8or itself just added: a conversationUpdate whose membersAdded holds the bot, or a Teams
    installationUpdate that adds the app?"""
    if activity.type == ActivityTypes.conversation_update:
        me = activity.recipient.id if activity.recipient else None
        return me is not None and any(m.id == me for m in activity.members_added or [])
    if activity.type == ActivityTypes.installation_update:
        return (activity.action or "").lower().startswith("add")
    return False


def greeting_text(registry: CommandRegistry) -> str:
    """Hello, three commands to start with (name and summary), and where the rest are."""
    specs = [spec for name in FIRST_COMMANDS if (spec := registry.get(name)) is not None][:3]
    lines = [messages.GREETING]
    for spec in specs:
        usage = " ".join([spec.name, *(p.display for p in spec.params if p.required)])
        lines.append(messages.GREETING_LINE.format(usage=usage, summary=spec.summary))
    lines.append(messages.GREETING_MORE)
    return "\n".join(lines)
