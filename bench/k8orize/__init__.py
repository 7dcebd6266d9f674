"""Benchmark of the k8orization engine on the example apps in examples/ (run: python -m bench.k8orize)."""
