# The README's commands. Everything installs into .venv on first use.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test lint local clean bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# dynalite, the second DynamoDB implementation the tests run against (package-lock.json).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: $(VENV)/.installed
	$(BIN)/pynenc-dynamodb demo

test: $(VENV)/.installed node_modules/.installed
	bash infra/ensure-redis.sh
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check backend lambdas infra tests
	$(BIN)/mypy

local: $(VENV)/.installed
	$(BIN)/pynenc-dynamodb local

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache

bench: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	$(BIN)/python -m tests.benchmarks
