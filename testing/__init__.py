"""Stand-ins for what k8or talks to, real enough for its real clients: the fake Kubernetes API server
(`testing.kube`), the seven services' APIs (`testing.services`), and the chat side — a Bot Framework
channel, token issuance, Slack's Web API and whole turns in memory (`testing.chat`).

Tests, `bench/` and a demo mode import them; nothing in the product does.
"""
