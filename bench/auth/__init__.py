"""`auth status` latency: seven services checked concurrently against fakes with 250 ms of latency each."""
