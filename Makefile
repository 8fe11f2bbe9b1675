# Every target creates .venv and installs requirements/dev.txt first if needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-dev
INSTANCES ?= 2
# make run serves on 5000 and make prod on 8080 unless PORT is given: make run PORT=5001
RUN_PORT = $(or $(PORT),5000)
PROD_PORT = $(or $(PORT),8080)

.DEFAULT_GOAL := help
.PHONY: help install run prod test test-unit coverage lint lint-deploy typecheck format fuzz bench db-init clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(INSTALLED): requirements/base.txt requirements/prod.txt requirements/granian.txt requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

install: $(INSTALLED) ## Create .venv and install the development requirements

run: $(INSTALLED) ## Bring the database up to date (db-init, db-migrate), then serve on http://127.0.0.1:5000 (PORT=5001: another port) with a job worker
	$(BIN)/flask db-init
	$(BIN)/flask db-migrate
	@# Ctrl-C stops both: the worker finishes its running job, unfinished jobs stay queued in MongoDB.
	@$(BIN)/flask worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/flask run --debug --port $(RUN_PORT) $(ARGS)

prod: $(INSTALLED) ## Production topology on this machine: nginx on PORT (8080) before INSTANCES (2) gunicorns
	$(BIN)/flask db-init
	$(BIN)/flask db-migrate
	$(BIN)/python -m deploy.prod --port $(PROD_PORT) --instances $(INSTANCES)

test: $(INSTALLED) ## Run the test suite (flask test): unit step, then subprocess step; ARGS=tests.api.test_sample runs one module
	$(BIN)/flask test $(ARGS)

test-unit: $(INSTALLED) ## Run only the fast unit step (no gunicorn, servers or interpreters started)
	$(BIN)/flask test --unit $(ARGS)

coverage: $(INSTALLED) ## Run the test suite with a coverage report; fails under 90%
	$(BIN)/flask test --coverage $(ARGS)

lint: $(INSTALLED) lint-deploy ## Check style and formatting with ruff, and the deployment files
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lint-deploy: $(INSTALLED) ## Lint the Dockerfile (hadolint), the workflow (actionlint) and deploy/k8s (schemas)
	$(BIN)/hadolint Dockerfile
	$(BIN)/actionlint
	$(BIN)/kubernetes-validate --strict --quiet deploy/k8s/*.yaml

typecheck: $(INSTALLED) ## Type-check app/, controller/ and model/ with mypy (strict)
	$(BIN)/mypy

format: $(INSTALLED) ## Fix what ruff can fix and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

fuzz: $(INSTALLED) ## Fuzz every endpoint with schemathesis against the generated OpenAPI document
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/fuzz.txt
	$(BIN)/python -m tests.fuzz $(ARGS)

bench: $(INSTALLED) ## Benchmark against bare Flask, APIFlask and FastAPI peers (uses wrk when installed)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r bench/peers/requirements.txt
	$(BIN)/python -m bench.run $(ARGS)

db-init: $(INSTALLED) ## Create collections, validators, indexes and seed data
	$(BIN)/flask db-init

clean: ## Remove the virtual environment and tool caches (keeps instance/)
	rm -rf $(VENV) .mypy_cache .ruff_cache .coverage htmlcov
