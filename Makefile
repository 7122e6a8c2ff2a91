# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= config.toml
CHECKED := monitor tests alembic bench

.PHONY: run test demo install dev lint typecheck pytest soak bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

## run: install, migrate and start the daemon on $(CONFIG) (SQLite by default)
run: install
	$(BIN)/newsmonitor --config $(CONFIG) db upgrade
	$(BIN)/newsmonitor --config $(CONFIG) run

## demo: the whole flow offline, on bundled sample feeds served from 127.0.0.1
demo: install
	$(BIN)/newsmonitor demo

## test: lint, type-check and the whole test suite
test: lint typecheck pytest

lint: dev
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/ruff format --check $(CHECKED)

typecheck: dev
	$(BIN)/mypy monitor

pytest: dev
	$(BIN)/pytest

## soak: the crash-safety test with many kills (SIGKILL mid-delivery, restart, repeat)
soak: dev
	NEWSMONITOR_CRASH_KILLS=$${NEWSMONITOR_CRASH_KILLS:-60} $(BIN)/pytest -q -s tests/test_crash.py

## bench: the scale benchmark (docs/performance.md); BENCH_ARGS="--feeds 10000 --repeat 1"
bench: dev
	$(BIN)/python bench/scale_bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
