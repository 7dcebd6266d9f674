"""Standalone scripts the engine runs next to the app.

Session drivers (`streamlit_session.py`) exercise the app like a user; they run with the *app's*
interpreter and import only the standard library and the app's own packages, never k8orize. The run
harness (`sandboxed_run.py`) runs the engine's own run loop inside the sandbox, under the base
interpreter without site-packages, so it imports k8orize from the engine's (read-only) folder.
"""
