"""Who may do what, who must confirm, and what is recorded: RBAC, approvals and audit.

The turn pipeline asks this package for every command (one authorization path, `roles.authorize`).
It holds decisions only: no chat code, no Bot Framework, nothing from `bot/`.
"""
