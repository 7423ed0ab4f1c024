# Throughline: two commands do everything on a fresh machine.
#   make run   - create .venv, install the lock, migrate, load the demo scenarios and serve the API
#   make test  - create .venv, install the lock, then lint, type-check, layer-check and test
# Installs come from uv.lock only (ADR 0019); `make lock` is the one way to change it.
PYTHON     ?= python3
VENV       := .venv
BIN        := $(VENV)/bin
UV_VERSION := 0.13.9
UV_HOME    := .tools/uv-$(UV_VERSION)
UV         := UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never $(UV_HOME)/bin/uv

.PHONY: run test lint typecheck layers unit bench lock install clean

# uv itself, pinned by version, installed beside the project (no global install).
$(UV_HOME)/bin/uv:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
	  --target $(UV_HOME) uv==$(UV_VERSION)

# Exactly the lock, every time (a no-op in well under a second when nothing changed). A lock
# that no longer matches pyproject.toml stops here, before anything is installed.
install: $(UV_HOME)/bin/uv
	@$(UV) lock --locked --python $(PYTHON) --quiet 2>/dev/null || { \
	  echo "uv.lock does not match pyproject.toml: run 'make lock' and commit uv.lock." >&2; \
	  exit 1; }
	@$(UV) sync --locked --all-extras --python $(PYTHON) --quiet

# Re-resolve every dependency to the newest release pyproject.toml allows: a deliberate step,
# committed on its own (README, "Upgrading dependencies").
lock: $(UV_HOME)/bin/uv
	$(UV) lock --upgrade --python $(PYTHON)

run: install
	$(BIN)/throughline demo
	THROUGHLINE_CHART_OF_ACCOUNTS=adapters/charts_of_accounts.json $(BIN)/throughline serve --demo-keys

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy domain application

layers: install
	$(BIN)/lint-imports

unit: install
	$(BIN)/python -m pytest -n auto -p no:cacheprovider; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

test: lint typecheck layers unit

# Benchmarks: each workload against its floor measured in the same run (ratios, not timings).
# BENCH_ARGS=--quick gives CI-sized runs. bench_workers needs THROUGHLINE_TEST_POSTGRES_URL.
bench: install
	$(BIN)/python -m tests.bench.bench_ingest $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.bench_import $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.bench_billing $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.bench_outbox $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.bench_http $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.bench_workers $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache .hypothesis
