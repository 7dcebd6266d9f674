"""Session drivers: small standalone scripts run with the *app's* interpreter to exercise it like a user.

They import only the standard library and the app's own packages, never k8orize, because they run
inside the app's venv, where k8orize is not installed.
"""
