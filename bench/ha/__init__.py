"""bench/ha: k8or's replicas under load and faults (`python -m bench.ha`); see its __main__."""
