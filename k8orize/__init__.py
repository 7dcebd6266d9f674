"""k8orize: the Level-3 k8orization engine (trace, trim, dedicated user, seccomp, Dockerfile, manifests).

Library entry point: `k8orize.engine.k8orize(K8orizeRequest(...), progress=None) -> K8orizeResult`;
errors are `k8orize.errors.K8orizeError` subclasses; the CLI is `k8orize.cli` (`python -m k8orize`).
Nothing is imported here, so `k8orize.hardening` stays cheap for the cluster code that shares it.
"""
