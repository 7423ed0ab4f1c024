# Throughline: two commands do everything on a fresh machine.
#   make run   - create .venv, install, migrate, load the demo scenarios and serve the API
#   make test  - create .venv, install, then lint, type-check, layer-check and test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck layers unit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/throughline demo
	$(BIN)/throughline serve --demo-keys

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy domain application

layers: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/python -m pytest -n auto -p no:cacheprovider; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

test: lint typecheck layers unit

# Benchmarks: each workload against its floor measured in the same run (ratios, not timings).
# BENCH_ARGS=--quick gives CI-sized runs.
bench: $(STAMP)
	$(BIN)/python -m tests.bench.bench_ingest $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.bench_billing $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.bench_outbox $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.bench_http $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
