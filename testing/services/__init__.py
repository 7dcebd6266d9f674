"""Local fake servers for the services k8or's connectors talk to, one aiohttp app per service.

Each fake serves the endpoints its connector uses, with bodies shaped as the service's published API
reference (sample payloads in `responses/`), and a `FaultSwitch` to make it fail the ways real
services do. Start them on port 0 with aiohttp's TestServer; see
`tests/integration/connectors/conftest.py`.
"""
