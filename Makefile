# Both entry points create .venv on first use, so a fresh clone needs only
# Python 3.10+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE := examples/blog

.PHONY: run test test-own compat bench figures docs lint clean fuzz run-asgi test-asgi bench-startup test-deploy soak test-matrix test-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files re-run the install whenever pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml $(EXAMPLE)/requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e . -r $(EXAMPLE)/requirements.txt
	touch $@

$(VENV)/.installed-test: pyproject.toml $(EXAMPLE)/requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,docs]" -r $(EXAMPLE)/requirements.txt
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
# Under CI=true, scripts/ci_strict.py turns every skip into a failure;
# outside CI it appends each skip to SKIP_LOG, and the run ends with that
# list (every skipped test and its reason, over all the pytest runs).
SKIP_LOG := $(CURDIR)/.cache/skips.txt
PYTEST := FLASK_SKIP_LOG=$(SKIP_LOG) PYTHONPATH=scripts $(BIN)/python -m pytest -p ci_strict
SKIPS_BEGIN := @mkdir -p .cache && rm -f $(SKIP_LOG)
SKIPS_END := @$(BIN)/python scripts/ci_strict.py --summary $(SKIP_LOG)

# Lint first: a typing regression fails the run before any test.
test: $(VENV)/.installed-test lint docs
	$(SKIPS_BEGIN)
	FLASK_SKIP_LOG=$(SKIP_LOG) $(BIN)/python scripts/compat.py
	FLASK_SKIP_LOG=$(SKIP_LOG) $(BIN)/python scripts/compat.py --asgi
	$(PYTEST) -q $(EXAMPLE)/tests
	$(PYTEST) -q tests
	$(MAKE) --no-print-directory test-asgi
	$(SKIPS_END)

# The example app's and the extensions' tests again, every test client
# going through app.asgi_app (docs/asgi.md lists the tests that cannot).
test-asgi: $(VENV)/.installed-test
	FLASK_TEST_ASGI=1 $(PYTEST) -q $(EXAMPLE)/tests
	FLASK_TEST_ASGI=1 $(PYTEST) -q tests/ecosystem

test-own: $(VENV)/.installed-test
	$(SKIPS_BEGIN)
	$(PYTEST) -q $(EXAMPLE)/tests
	$(PYTEST) -q tests
	$(SKIPS_END)

# ruff, then mypy --strict and pyright on src/flask (settings in pyproject.toml).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/mypy
	$(BIN)/pyright --project pyproject.toml --pythonpath $(BIN)/python

compat: $(VENV)/.installed-test
	$(BIN)/python scripts/compat.py

# The dependency matrix (noxfile.py): pyproject.toml's lower bounds, the
# newest releases, and those with every shortcut off (FLASK_NO_SHORTCUTS=1).
# Each runs scripts/compat.py over WSGI and ASGI and tests/; the venvs are
# kept in .nox/ between runs. The docs are built first: tests/test_docs.py
# reads the site, and under CI=true it may not skip.
test-matrix: $(VENV)/.installed-test docs
	$(BIN)/python -m nox -s min latest off

# The dependencies' main branches, from local checkouts or sdists: e.g.
# make test-dev WERKZEUG=/tmp/werkzeug-main (CI has no git access, and
# gives none, so there it only says it skipped).
DEV_DEPS = $(strip $(WERKZEUG) $(JINJA2) $(MARKUPSAFE) $(ITSDANGEROUS) $(CLICK) $(BLINKER))
test-dev:
ifeq ($(DEV_DEPS),)
	@echo "test-dev: skipped, no dependency path given (e.g. make test-dev WERKZEUG=/path/to/werkzeug)"
else
	$(MAKE) --no-print-directory $(VENV)/.installed-test
	$(BIN)/python -m nox -s dev -- $(DEV_DEPS)
endif

# The example deployed as in production (PostgreSQL, Redis, RabbitMQ, Celery,
# gunicorn and nginx on loopback), a worker killed under wrk load; make test
# runs it too, with the rest of the example's tests. Writes the failover
# figures to .cache/failover.json.
test-deploy: $(VENV)/.installed-test
	BLOG_DEPLOY_REPORT=.cache/failover.json $(PYTEST) -q $(EXAMPLE)/tests/test_deploy.py
	@cat .cache/failover.json
	@echo "to add this run to the results file: $(BIN)/python benchmarks/figures.py --store failover .cache/failover.json"

# 60 s of wrk per gunicorn worker class against the example; stores the
# run in the results file and renders BENCHMARKS.md. Not part of make test.
soak: $(VENV)/.installed-test
	$(BIN)/python $(EXAMPLE)/deploy/soak.py --out .cache/soak.json
	$(BIN)/python benchmarks/figures.py --store soak .cache/soak.json

# Writes the one results file, docs/_static/bench/results.json, and renders
# BENCHMARKS.md, the README's figures and the charts from it.
# `make figures` renders the pages again from the committed file.
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py

figures:
	$(PYTHON) benchmarks/figures.py

# Warnings are errors; the doctest builder runs the pages' doctests.
docs: $(VENV)/.installed-test
	$(BIN)/python -m sphinx -q -W --keep-going -b html docs docs/_build/html
	$(BIN)/python -m sphinx -q -W --keep-going -b doctest docs docs/_build/doctest

# Differential fuzzer against Pallets Flask 3.1.3 (docs/fuzzing.md):
# N requests per variant, seeded, bounded by FUZZ_TIME seconds per run;
# over WSGI and through app.asgi_app, each with the shortcuts on and
# switched off. The unit suite has only a fixed slice with no time limit
# (tests/test_fuzz_slice.py).
N ?= 2000
SEED ?= 1
FUZZ_TIME ?= 3600
fuzz: $(VENV)/.installed-test
	@set -e; for transport in wsgi asgi; do for off in 0 1; do \
		echo "== fuzz: $$transport, FLASK_NO_SHORTCUTS=$$off"; \
		FLASK_NO_SHORTCUTS=$$off $(BIN)/python fuzz/differential.py --n $(N) --seed $(SEED) \
			--time-limit $(FUZZ_TIME) --transport $$transport; \
	done; done

# Only the start-up row (ours vs Pallets), printed; BENCHMARKS.md is left alone.
bench-startup: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py --only-startup

clean:
	rm -rf $(VENV) .cache .nox

# Mutation testing of the request path's modules (on demand, not in test):
# fails when a mutant survives that docs/mutation.md does not list as
# equivalent. MUTATE_ARGS="-j 1 _body" narrows it.
.PHONY: mutate
mutate: $(VENV)/.installed-test
	$(BIN)/python scripts/mutate.py $(MUTATE_ARGS)
