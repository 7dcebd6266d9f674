"""The chat side for tests and benchmarks: a Bot Framework channel on port 0, channel tokens, Slack's
Web API, and whole turns in memory."""
