# Both entry points create .venv on first use, so a fresh clone needs only
# Python 3.10+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE := examples/blog

.PHONY: run test test-own compat bench clean test-deploy soak

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files re-run the install whenever pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml $(EXAMPLE)/requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e . -r $(EXAMPLE)/requirements.txt
	touch $@

$(VENV)/.installed-test: pyproject.toml $(EXAMPLE)/requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]" -r $(EXAMPLE)/requirements.txt
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/flask --app $(EXAMPLE)/blog run --debug --host 127.0.0.1 --port 5000

# The compatibility suite first, so the run ends on pytest's summary line.
# The example app's tests are a separate pytest run: both folders have a
# conftest.py and neither is a package.
# Under CI=true, scripts/ci_strict.py turns every skip into a failure.
PYTEST := PYTHONPATH=scripts $(BIN)/python -m pytest -p ci_strict

test: $(VENV)/.installed-test
	$(BIN)/python scripts/compat.py
	$(PYTEST) -q $(EXAMPLE)/tests
	$(PYTEST) -q tests

test-own: $(VENV)/.installed-test
	$(PYTEST) -q $(EXAMPLE)/tests
	$(PYTEST) -q tests

compat: $(VENV)/.installed-test
	$(BIN)/python scripts/compat.py

# The example deployed as in production (PostgreSQL, Redis, RabbitMQ, Celery,
# gunicorn and nginx on loopback), a worker killed under wrk load; make test
# runs it too, with the rest of the example's tests. Writes the failover
# figures to .cache/failover.json.
test-deploy: $(VENV)/.installed-test
	BLOG_DEPLOY_REPORT=.cache/failover.json $(PYTEST) -q $(EXAMPLE)/tests/test_deploy.py
	@cat .cache/failover.json

# 60 s of wrk per gunicorn worker class against the example; writes
# benchmarks/soak.md. Not part of make test.
soak: $(VENV)/.installed-test
	$(BIN)/python $(EXAMPLE)/deploy/soak.py --out benchmarks/soak.md

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .cache
