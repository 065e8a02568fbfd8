# The two commands: `make run` serves an instance, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config.toml

.PHONY: run test lint typecheck install install-test bench e2e interop clean

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

$(CONFIG): | $(VENV)/.installed
	$(BIN)/fediverse-learn --config $(CONFIG) write-config --local

run: $(VENV)/.installed $(CONFIG)
	$(BIN)/fediverse-learn --config $(CONFIG) init
	$(BIN)/fediverse-learn --config $(CONFIG) serve

test: $(VENV)/.installed-test
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
