# The two commands a newcomer needs: `make run` and `make test`.
# Both create .venv on a fresh machine and install from uv.lock; both are
# quick when nothing changed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP := $(VENV)/.installed
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run test test-fast lint typecheck pytest bench clean chromium

install: $(STAMP)

$(STAMP): pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv sync --frozen --python $(BIN)/python --quiet
	@touch $@

run: install
	$(BIN)/bastion init --demo
	$(BIN)/bastion serve

lint: install
	$(BIN)/ruff format --check src tests $(wildcard bench)
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# The browser tests drive Debian's chromium (never a browser Playwright downloads).
# Installing it needs root (CI runs as root); elsewhere the browser tests skip with a reason.
CHROMIUM := /usr/bin/chromium

chromium:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium not installed (needs root and apt-get): the browser tests will skip"; fi

# The tests run in parallel, one pytest-xdist worker a core (`PYTEST_WORKERS=0` runs them in
# one process). Each worker starts with a contiguous half of the tests, so a module's
# fixtures are mostly built once, and takes tests from the other's queue when idle.
# Every test is worker-safe: a worker has its own databases, NATS streams, Redis database,
# ports and temporary folders (see tests/conftest.py).
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL = -n $(PYTEST_WORKERS) --dist worksteal

# The 25 slowest tests close every run, so a test growing past its share shows in CI's log.
pytest: install chromium
	$(BIN)/pytest $(PYTEST_PARALLEL) --durations=25

test: lint typecheck pytest

# The quick loop while working: everything but the tests marked slow (benchmarks run
# end to end, the SIGKILL crash test). CI's `make test` runs them all.
test-fast: lint typecheck
	$(BIN)/pytest $(PYTEST_PARALLEL) -m "not slow"

bench: install
	$(BIN)/python -m bench.boundary

clean:
	rm -rf $(VENV) .bastion .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
