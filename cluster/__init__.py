"""Cluster operations for k8or: a plain, synchronous library over the `kubernetes` client.

No chat code lives here. The chat side calls these functions through `asyncio.to_thread` and renders
what they return. Every function that names a Kubernetes object validates the name before any request.
"""
