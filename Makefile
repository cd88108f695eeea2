# Two commands for a newcomer: `make run` and `make test`. Needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test test-fast mutation lint bench bench-chain ha-drill clean contract-tools contract client-python client-typescript

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
## http://$(HOST):$(PORT) with gunicorn (RUN_WORKERS processes, deploy/gunicorn.conf.py) on the SQLite file,
## with the webhook worker (`flask webhooks work`, docs/feed.md) next to it (Ctrl-C stops both).
## `make run PORT=8000` when 5000 is taken (macOS AirPlay); `HOST=0.0.0.0` to reach it from a tablet on the LAN.
RUN_WORKERS ?= 3
PORT ?= 5000
HOST ?= 127.0.0.1
run: $(VENV)/.runtime
	$(BIN)/flask db upgrade
	$(BIN)/flask users ensure-admin
	@echo "Serving http://$(HOST):$(PORT) with gunicorn ($(RUN_WORKERS) workers) and the webhook worker; Ctrl-C stops both."
	$(BIN)/flask webhooks work & GUNICORN_BIND=$(HOST):$(PORT) GUNICORN_WORKERS=$(RUN_WORKERS) $(BIN)/gunicorn -c deploy/gunicorn.conf.py wsgi:app

## test: install test requirements and run the suite (SQLite; PostgreSQL too when TEST_DATABASE_URL is set)
test: $(VENV)/.dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## test-fast: everything but what is slow by nature (markers in pyproject.toml: deploy, ha, browser, slow), on
## TEST_WORKERS pytest-xdist workers (one database each); `make test` stays the whole suite, in one process.
FAST := not deploy and not ha and not browser and not slow
TEST_WORKERS ?= 2
test-fast: $(VENV)/.dev
	$(BIN)/python -m pytest -m "$(FAST)" -n $(TEST_WORKERS) $(PYTEST_ARGS)

## mutation: mutmut (pyproject.toml [tool.mutmut]) over app/money.py, app/percent.py, app/orders/pricing.py and
## `contribution` in app/figures/rollups.py, on SQLite against a fast set of pure tests; lists the survivors
MUTANTS := "app.money.*" "app.percent.*" "app.orders.pricing.*" "app.figures.rollups.x_contribution*"
mutation: $(VENV)/.dev
	rm -rf mutants
	env -u TEST_DATABASE_URL $(BIN)/mutmut run $(MUTANTS)
	$(BIN)/python tools/mutation_report.py $(BIN)/mutmut $(MUTANTS)

## lint: ruff, the import layers (.importlinter) and mypy on app/
lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

## contract-tools: the contract tools in their own venv (.venv-tools: openapi-python-client, schemathesis)
## and tools/contract/node_modules (npm ci: Spectral + OWASP ruleset, openapi-typescript, typescript)
TOOLS_VENV := .venv-tools
CONTRACT   := tools/contract

$(TOOLS_VENV)/.installed: $(CONTRACT)/requirements.txt
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install -q -r $(CONTRACT)/requirements.txt
	@touch $@

$(CONTRACT)/node_modules/.installed: $(CONTRACT)/package.json $(CONTRACT)/package-lock.json
	cd $(CONTRACT) && npm ci --no-audit --no-fund
	@touch $@

contract-tools: $(TOOLS_VENV)/.installed $(CONTRACT)/node_modules/.installed

## contract: Spectral with the OWASP API Security ruleset over the live /openapi.json (zero errors)
contract: contract-tools $(VENV)/.dev
	$(BIN)/python $(CONTRACT)/dump_openapi.py $(CONTRACT)/build/openapi.json
	cd $(CONTRACT) && npx --no-install spectral lint -r .spectral.yaml build/openapi.json --fail-severity=error

## client-python: generate the Python client into build/comanda-client (a pip-installable project)
client-python: contract-tools $(VENV)/.dev
	$(BIN)/python $(CONTRACT)/dump_openapi.py $(CONTRACT)/build/openapi.json
	$(TOOLS_VENV)/bin/openapi-python-client generate --path $(CONTRACT)/build/openapi.json \
		--config $(CONTRACT)/openapi-python-client.yaml --custom-template-path $(CONTRACT)/client-templates \
		--output-path build/comanda-client --overwrite

## client-typescript: generate the TypeScript types into tools/contract/build/comanda.ts
client-typescript: contract-tools $(VENV)/.dev
	$(BIN)/python $(CONTRACT)/dump_openapi.py $(CONTRACT)/build/openapi.json
	cd $(CONTRACT) && npx --no-install openapi-typescript build/openapi.json -o build/comanda.ts \
		--default-non-nullable false


## bench: order creation over real gunicorn + nginx vs a bare baseline, reports, batch: one table (bench/README.md).
##        Needs nginx, wrk and PostgreSQL: DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/comanda_bench);
##        BENCH_ARGS="--seconds 10" shortens the rounds; `make bench-chain` loads the 1M-order reports data once.
bench: $(VENV)/.dev
	$(BIN)/python bench/http_bench.py $(BENCH_ARGS)

bench-chain: $(VENV)/.dev
	$(BIN)/python bench/reports_bench.py --skip-throughput

## ha-drill: every failure case (kill Patroni / PostgreSQL / an etcd member on the leader, lose the server)
## on a throwaway three-node Patroni cluster under order load, ~3 minutes (docs/ha.md);
## needs patroni, etcd-server and PostgreSQL 15 (apt-get install -y patroni etcd-server postgresql-15)
ha-drill: $(VENV)/.runtime
	$(BIN)/python deploy/ha/drill.py $(DRILL_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS_VENV) $(CONTRACT)/node_modules $(CONTRACT)/build build .pytest_cache .ruff_cache
