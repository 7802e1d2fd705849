# The README's commands. Everything installs on first use, into two environments:
# .venv (pynenc 0.0.24) and .venv-pynenc01 (pynenc 0.1), each pinned by its constraints file.
VENV ?= .venv
VENV01 ?= .venv-pynenc01
PYTHON ?= python3
BIN := $(VENV)/bin
BIN01 := $(VENV01)/bin
# mypy checks the adapter of the environment's pynenc; the other one is left out. pyproject's
# [tool.mypy] is the 0.0.24 check; the 0.1 check is the same config with the flag turned
# and the other adapter excluded, written from it so that the two never drift apart.
MYPY_01_CONFIG := .mypy_cache/pynenc01/pyproject.toml

.PHONY: demo demo-0024 test test-0024 test-01 test-combinations lint local clean bench bench-0024 bench-01 bench-stack

$(VENV)/.installed: pyproject.toml constraints/pynenc-0.0.24.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]" -c constraints/pynenc-0.0.24.txt
	touch $@

$(VENV01)/.installed: pyproject.toml constraints/pynenc-0.1.1.txt
	$(PYTHON) -m venv $(VENV01)
	$(BIN01)/pip install --quiet --upgrade pip
	$(BIN01)/pip install --quiet -e ".[dev]" -c constraints/pynenc-0.1.1.txt
	touch $@

# dynalite, the second DynamoDB implementation the tests run against (package-lock.json).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The demo on pynenc 0.1: the whole stack on the embedded endpoint's SQS, DynamoDB and S3.
demo: $(VENV01)/.installed
	$(BIN01)/pynenc-dynamodb demo

# The same order workflow on pynenc 0.0.24 (its state in DynamoDB, a ThreadRunner).
demo-0024: $(VENV)/.installed
	$(BIN)/pynenc-dynamodb demo

# Each environment collects its own tests (tests/conftest.py): the pynenc-0.0.24 suite and
# every pynenc-free module under .venv, the pynenc 0.1 plugin tests (tests/plugin/) under
# .venv-pynenc01.
test: test-0024 test-01

test-0024: $(VENV)/.installed node_modules/.installed
	bash infra/ensure-redis.sh
	$(BIN)/python -m pytest

# pynenc's combinations suite runs here on ThreadRunner; its process runners' part (three
# times as long) in test-combinations.
test-01: $(VENV01)/.installed
	$(BIN01)/python -m pytest -m "not full_combinations"

# pynenc's integration.combinations suite on the whole AWS stack, every runner (README, Tests).
test-combinations: $(VENV01)/.installed
	$(BIN01)/python -m pytest --timeout 90 tests/plugin/test_suite_integration_combinations.py

lint: $(VENV)/.installed $(VENV01)/.installed $(MYPY_01_CONFIG)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check backend lambdas infra tests
	$(BIN)/mypy
	$(BIN01)/mypy --config-file $(MYPY_01_CONFIG) --cache-dir .mypy_cache/pynenc01
	# The worker function's handler is a second top-level ``app`` module: checked on its own.
	cd lambdas/worker && MYPYPATH=../../backend ../../$(BIN01)/mypy \
		--config-file ../../$(MYPY_01_CONFIG) --cache-dir ../../.mypy_cache/worker app.py

$(MYPY_01_CONFIG): pyproject.toml
	mkdir -p $(@D)
	sed -e 's/^always_false = \["PYNENC_01"\]/always_true = ["PYNENC_01"]/' \
		-e 's#^exclude = \["^backend/pynenc_dynamodb/plugin/"\]#exclude = ["^backend/pynenc_dynamodb/(state_backend|demo)/"]#' \
		pyproject.toml > $@
	grep -q '^always_true = \["PYNENC_01"\]' $@ && grep -q '(state_backend|demo)' $@

local: $(VENV)/.installed
	$(BIN)/pynenc-dynamodb local

clean:
	rm -rf $(VENV) $(VENV01) node_modules .pytest_cache .mypy_cache .ruff_cache

bench: bench-0024 bench-01 bench-stack

bench-0024: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev,bench]" -c constraints/pynenc-0.0.24.txt
	$(BIN)/python -m tests.benchmarks

# The plugin's figures: requests per task run, the time index, pynenc's plugin suites.
bench-01: $(VENV01)/.installed
	$(BIN01)/python -m tests.benchmarks.pynenc01

# The whole AWS stack: requests per task by service, tasks/s beside pynenc-redis's stack.
bench-stack: $(VENV01)/.installed
	$(BIN01)/pip install --quiet "pynenc-redis==0.1.5" -c constraints/pynenc-0.1.1.txt
	$(BIN01)/python -m tests.benchmarks.stack --write
