# Two commands for a newcomer: `make run` and `make test`. Needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test lint bench bench-chain ha-drill clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/.runtime
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	@touch $@

## run: install, migrate the database, make sure an admin exists (and print how to log in), then serve
## http://127.0.0.1:5000 with gunicorn (RUN_WORKERS processes, deploy/gunicorn.conf.py) on the SQLite file
RUN_WORKERS ?= 3
run: $(VENV)/.runtime
	$(BIN)/flask db upgrade
	$(BIN)/flask users ensure-admin
	@echo "Serving http://127.0.0.1:5000 with gunicorn ($(RUN_WORKERS) workers); Ctrl-C stops it."
	GUNICORN_BIND=127.0.0.1:5000 GUNICORN_WORKERS=$(RUN_WORKERS) $(BIN)/gunicorn -c deploy/gunicorn.conf.py wsgi:app

## test: install test requirements and run the suite (SQLite; PostgreSQL too when TEST_DATABASE_URL is set)
test: $(VENV)/.dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## lint: ruff, the import layers (.importlinter) and mypy on app/
lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

## bench: order creation over real gunicorn + nginx vs a bare baseline, reports, batch: one table (bench/README.md).
##        Needs nginx, wrk and PostgreSQL: DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/comanda_bench);
##        BENCH_ARGS="--seconds 10" shortens the rounds; `make bench-chain` loads the 1M-order reports data once.
bench: $(VENV)/.dev
	$(BIN)/python bench/http_bench.py $(BENCH_ARGS)

bench-chain: $(VENV)/.dev
	$(BIN)/python bench/reports_bench.py --skip-throughput

## ha-drill: lose the primary of a throwaway Patroni cluster under order load (deploy/README.md);
## needs patroni, etcd-server and PostgreSQL 15 (apt-get install -y patroni etcd-server postgresql-15)
ha-drill: $(VENV)/.runtime
	$(BIN)/python deploy/ha/drill.py $(DRILL_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
