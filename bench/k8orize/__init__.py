"""Benchmark of the k8orization engine on examples/streamlit-app (run: python -m bench.k8orize)."""
