# Both entry points create .venv on first use, so a fresh clone needs only
# Python 3.10+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE := examples/blog

.PHONY: run test test-own compat bench bench-startup clean lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files re-run the install whenever pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/flask --app $(EXAMPLE)/blog run --debug --host 127.0.0.1 --port 5000

# The compatibility suite first, so the run ends on pytest's summary line.
# The example app's tests are a separate pytest run: both folders have a
# conftest.py and neither is a package.
# Under CI=true, scripts/ci_strict.py turns every skip into a failure.
PYTEST := PYTHONPATH=scripts $(BIN)/python -m pytest -p ci_strict

# Lint first: a typing regression fails the run before any test.
test: $(VENV)/.installed-test lint
	$(BIN)/python scripts/compat.py
	$(PYTEST) -q $(EXAMPLE)/tests
	$(PYTEST) -q tests

test-own: $(VENV)/.installed-test
	$(PYTEST) -q $(EXAMPLE)/tests
	$(PYTEST) -q tests

# ruff, then mypy --strict and pyright on src/flask (settings in pyproject.toml).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/mypy
	$(BIN)/pyright --pythonpath $(BIN)/python

compat: $(VENV)/.installed-test
	$(BIN)/python scripts/compat.py

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py

# Only the start-up row (ours vs Pallets), printed; BENCHMARKS.md is left alone.
bench-startup: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py --only-startup

clean:
	rm -rf $(VENV) .cache
