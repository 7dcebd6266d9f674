"""The composition root: the only package that imports every layer.

`k8or.app.create_app` assembles the chat framework (`bot`), the commands (`dialogs`) and their
wiring (`k8or.wiring`); `k8or.cli` is the `k8or` command.
"""
