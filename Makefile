# The two commands that work on a fresh machine: `make up` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: up test lint typecheck unit bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Record the support-desk example (one deliberately broken turn) and run the bug catalog
# over it; `orca check` exits 1 on findings, which are the point here, so `up` still succeeds.
up: $(STAMP)
	$(BIN)/orca run -- $(BIN)/python examples/support_desk.py
	-$(BIN)/orca check --all

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

# Two workers: the suite spends much of its time waiting on subprocesses and servers.
unit: $(STAMP)
	$(BIN)/pytest -q -n 2

test: lint typecheck unit

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .orca .pytest_cache .mypy_cache .ruff_cache
