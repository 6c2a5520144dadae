# Both entry points create .venv on first use, so a fresh clone needs only
# Python 3.10+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE := examples/blog

.PHONY: run run-asgi test test-own test-asgi compat bench clean

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

# The same app over ASGI, with uvicorn's reloader (docs/asgi.md).
run-asgi: $(VENV)/.installed-test
	$(BIN)/python -m uvicorn --app-dir scripts blog_asgi:app --reload \
		--reload-dir $(EXAMPLE)/blog --host 127.0.0.1 --port 5000

# The compatibility suite first, so the run ends on pytest's summary line.
# The example app's tests are a separate pytest run: both folders have a
# conftest.py and neither is a package.
# Under CI=true, scripts/ci_strict.py turns every skip into a failure.
PYTEST := PYTHONPATH=scripts $(BIN)/python -m pytest -p ci_strict

test: $(VENV)/.installed-test
	$(BIN)/python scripts/compat.py
	$(BIN)/python scripts/compat.py --asgi
	$(PYTEST) -q $(EXAMPLE)/tests
	$(PYTEST) -q tests
	$(MAKE) --no-print-directory test-asgi

# The example app's and the extensions' tests again, every test client
# going through app.asgi_app (docs/asgi.md lists the tests that cannot).
test-asgi: $(VENV)/.installed-test
	FLASK_TEST_ASGI=1 $(PYTEST) -q $(EXAMPLE)/tests
	FLASK_TEST_ASGI=1 $(PYTEST) -q tests/ecosystem

test-own: $(VENV)/.installed-test
	$(PYTEST) -q $(EXAMPLE)/tests
	$(PYTEST) -q tests

compat: $(VENV)/.installed-test
	$(BIN)/python scripts/compat.py

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .cache
