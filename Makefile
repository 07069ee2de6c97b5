# One task runner. Every target sets itself up: it creates .venv and installs the package with
# its dev dependencies the first time (and again whenever pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: run test lint typecheck bench soak cluster dashboard-data clean help

help:
	@echo "make run    - the Paris 2024 rehearsal on the embedded SQLite log (flambeau up)"
	@echo "make test   - lint, type-check, then the whole test suite"
	@echo "make bench  - every benchmark, quick mode, JSON lines (flambeau bench NAME for one)"
	@echo "make soak   - the long soak runs (marked slow), excluded from make test"
	@echo "make cluster - 3 NATS nodes, 2 gateways, 3 workers: the rehearsal through faults"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/flambeau up $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts

typecheck: $(STAMP)
	$(BIN)/mypy

# two workers: most tests wait on sockets, subprocesses and servers rather than on the CPU
test: lint typecheck
	$(BIN)/python -m pytest -m "not slow" -n 2 --dist loadfile $(ARGS)

bench: $(STAMP)
	$(BIN)/flambeau bench all --quick --json

soak: $(STAMP)
	$(BIN)/python -m pytest -m slow -rP $(ARGS)

# the README's cluster deployment on this machine, rehearsed through a worker, a NATS node and a
# gateway kill; ARGS='--duration 600 --speed 60 --keep' for more
cluster: $(STAMP)
	$(BIN)/python scripts/cluster.py $(ARGS)

dashboard-data: $(STAMP)
	$(BIN)/python scripts/dashboard_data.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build dist
