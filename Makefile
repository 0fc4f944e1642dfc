# Shortcuts; the README's two commands work without make.
VENV ?= .venv
PY := $(VENV)/bin/python
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: install run demo test test-pg test-unit test-integration test-e2e soak lint typecheck format bench bench-quick bench-intake screenshots clean restore-drill

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/dispatch serve

test: install
	$(PY) -m pytest -q

test-pg: install
	$(PG_ENV) $(PY) -m pytest -q

# One layer of the suite; on PostgreSQL too with `make test-integration TEST_ENV="$(PG_ENV)"`.
PG_ENV := DISPATCH_TEST_DATABASE_URL=$(PG_URL) DISPATCH_TEST_REDIS_URL=$(REDIS_URL)
TEST_ENV ?=

test-unit: install
	$(TEST_ENV) $(PY) -m pytest -q tests/unit

test-integration: install
	$(TEST_ENV) $(PY) -m pytest -q tests/integration

test-e2e: install
	$(TEST_ENV) $(PY) -m pytest -q tests/e2e

# Many processes killed and restarted under load, on PostgreSQL (tests/soak): CI runs 300
# cases; this runs SOAK_CASES (2,000) from SOAK_CLIENTS clients.
SOAK_CASES ?= 2000
SOAK_CLIENTS ?= 16
soak: install
	$(PG_ENV) DISPATCH_SOAK_CASES=$(SOAK_CASES) DISPATCH_SOAK_CLIENTS=$(SOAK_CLIENTS) \
		$(PY) -m pytest -q -s tests/soak --timeout 3600

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# Strict on events, dispatch.domain, dispatch.catalogue and dispatch.handlers ([tool.mypy]).
typecheck: install
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Benchmarks (`dispatch bench`, bench/README.md): every figure beside a raw baseline measured
# in the same run, one table, docs/benchmarks.md. Scratch databases on the configured PostgreSQL
# server, and a Redis database the bench may flush, e.g.
# `make bench BENCH_ARGS="--redis-url redis://127.0.0.1:6379/5"`; bench-quick is a smoke run.
BENCH_ARGS ?=
bench: install
	$(VENV)/bin/dispatch bench $(BENCH_ARGS)

bench-quick: install
	$(VENV)/bin/dispatch bench --quick $(BENCH_ARGS)

# Keystrokes and seconds to file one complaint by keyboard alone (Chromium; not a timed test).
bench-intake: install
	mkdir -p bench/results
	$(PY) -m bench.intake_keyboard --rounds 5 --json bench/results/intake_keyboard.json

# The README's pictures: `dispatch demo --fresh` in a scratch directory, each role's main page
# in headless Chromium at 1280×800, written to docs/screenshots/*.png (SCREENSHOT_CASES: demo size).
SCREENSHOT_CASES ?= 800
screenshots: install
	$(PY) scripts/screenshots.py --cases $(SCREENSHOT_CASES)

# Backup → restore into a scratch database → `dispatch verify` (deploy/restore-drill.sh).
# `make restore-drill DRILL_URL=postgresql://…/whistle`; on an empty database add DRILL_SEED=200
# to fill it with demo cases first.
DRILL_URL ?= $(DISPATCH_DATABASE_URL)
restore-drill: install
	DISPATCH="$(VENV)/bin/dispatch" PYTHON="$(PY)" DRILL_SEED="$(DRILL_SEED)" \
		deploy/restore-drill.sh $(DRILL_URL)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .import_linter_cache dispatch.db* .redis
