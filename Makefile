# takedown — two commands: `make run` and `make test` (and `make demo` to watch one day).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSETS_STAMP := node_modules/.installed

.PHONY: run test demo lint typecheck bench install assets services clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(ASSETS_STAMP): package.json
	@if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --silent; \
	  else npm install --no-audit --no-fund --silent; fi
	touch $(ASSETS_STAMP)

assets: $(ASSETS_STAMP)
	$(BIN)/python -m takedown.web.assets

run: install assets
	$(BIN)/takedown db upgrade
	$(BIN)/takedown serve

# A simulated action day on the testbed, end to end, then its dashboard served on
# http://127.0.0.1:8080 (its own database under var/demo; see docs/operations.md).
demo: install assets
	$(BIN)/takedown demo

services:
	bash scripts/ensure-services.sh

test: install assets services
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/pytest -n 2 --dist loadgroup

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy src

# The benches' references (HMA's PDQIndex, a reference link checker): the `bench` extra.
bench: install
	$(BIN)/pip install --quiet -e '.[bench]'
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules var .mypy_cache .pytest_cache .ruff_cache
