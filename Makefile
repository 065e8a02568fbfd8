# The two commands: `make run` serves an instance, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config.toml

.PHONY: run test lint typecheck install install-test browser bench e2e interop clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# tests/browser drives Debian's chromium through Playwright (which downloads no browser of its own). When chromium
# is missing, install it if we can (root with apt-get, as CI on a fresh machine); if we cannot, those tests skip,
# or fail when CI is set.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && echo "Installing chromium for tests/browser (apt-get)" && apt-get update -qq \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
	  || echo "chromium is not installed (apt-get install chromium): tests/browser will skip, or fail under CI"

$(CONFIG): | $(VENV)/.installed
	$(BIN)/fediverse-learn --config $(CONFIG) write-config --local

run: $(VENV)/.installed $(CONFIG)
	$(BIN)/fediverse-learn --config $(CONFIG) init
	$(BIN)/fediverse-learn --config $(CONFIG) serve

test: $(VENV)/.installed-test browser
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

PEER := interop/fedify-peer

$(PEER)/node_modules/.package-lock.json: $(PEER)/package.json $(PEER)/package-lock.json
	cd $(PEER) && npm ci --no-audit --no-fund

# Not part of `make test`: the end-to-end flows against an independent implementation, a Fedify peer on loopback.
interop: $(VENV)/.installed-test $(PEER)/node_modules/.package-lock.json
	FEDIVERSE_LEARN_INTEROP=1 $(BIN)/pytest -q tests/interop

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache interop/fedify-peer/node_modules
