"""Async actions over the blocking libraries (cluster/, k8orize/, connectors/).

An action owns the worker thread (`blocking.in_thread`), the streaming of progress from that thread
back to the event loop, and the translation of library errors into `bot.errors.K8orError`
(`errors.translated`). Dialogs call actions and render what they return; they never touch threads.
"""
