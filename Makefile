# ttrelay — every target installs what it needs from the pinned locks (uv.lock, requirements/sam.lock).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PORT ?= 3000

# Python 3.13 (the Lambda runtime): a working python3.13 on PATH, else pyenv's newest 3.13.
PYTHON313 ?= $(shell for p in "$$(command -v python3.13)" $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 2>/dev/null | sort -V -r); do \
	[ -n "$$p" ] && "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$$p"; break; }; done)
UV_VERSION := 0.13.9
UV := .tools/uv/bin/uv
VENV := .venv
SAM_VENV := .tools/sam
# sam build resolves the python3.13 runtime from PATH.
SAM_PATH := $(dir $(PYTHON313)):$(PATH)
export UV_PYTHON_DOWNLOADS := never

.PHONY: help setup browser-deps dev test chaos lint typecheck unit sam-check bench invoke clean layer-requirements \
	build deploy sdk-deps sdk-check shopify-deps
help:
	@echo "make dev    run the local stack (http://127.0.0.1:$(PORT))"
	@echo "make test   lint, type-check, SAM validation and every test"
	@echo "make build  sam build with the pinned SAM CLI and python3.13 (writes .aws-sam/build)"
	@echo "make deploy build, check the parameters (asks what only you can decide), then sam deploy"
	@echo "            (CONFIG_ENV=default, STACK=<stack name>, GUIDED=1 to be asked again; docs/deploy.md)"
	@echo "make bench  print the benchmark figures (bench/results.json)"
	@echo "make chaos  delivery under faults, crashes and duplicates (N=20000 events)"
	@echo "make layer-requirements  re-export shared/requirements.txt (the Lambda layer's pins) from uv.lock"
	@echo "make sdk-check   the npm package (web/sdk): declarations, typed example, ES module build, pack"
	@echo "make vendor-web  re-vendor the demo's npm packages (web/package-lock.json) into web/demo/vendor"

$(UV):
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found (install it, e.g. 'pyenv install 3.13')" >&2; exit 1; }
	$(PYTHON313) -m venv .tools/uv
	.tools/uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON313)
	@touch $@

$(SAM_VENV)/.synced: $(UV) requirements/sam.lock
	$(UV) venv --quiet --allow-existing --python $(PYTHON313) $(SAM_VENV)
	VIRTUAL_ENV=$(SAM_VENV) $(UV) pip install --quiet --require-hashes -r requirements/sam.lock
	@touch $@

# Browser tests run Playwright (a dev dependency) on Debian's Chromium, since Playwright's own browser
# download needs the internet; installed once per machine (root, or sudo where available).
browser-deps:
	@command -v chromium >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# The npm package's TypeScript (web/sdk/package-lock.json), reinstalled only when the lock changes; the
# tests then run offline. tests/unit/test_sdk_package.py fails, saying so, when it is missing.
SDK_MODULES := web/sdk/node_modules/.installed
$(SDK_MODULES): web/sdk/package-lock.json
	npm ci --prefix web/sdk --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@
sdk-deps: $(SDK_MODULES)

# The Shopify custom pixel's type check (web/integrations/shopify/package-lock.json: Shopify's web pixel
# types and TypeScript), installed like the npm package's; tests/unit/test_shopify_types.py runs tsc.
SHOPIFY_MODULES := web/integrations/shopify/node_modules/.installed
$(SHOPIFY_MODULES): web/integrations/shopify/package-lock.json
	npm ci --prefix web/integrations/shopify --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@
shopify-deps: $(SHOPIFY_MODULES)

setup: $(VENV)/.synced $(SAM_VENV)/.synced browser-deps sdk-deps shopify-deps

dev: $(VENV)/.synced
	$(VENV)/bin/ttrelay dev --port $(PORT)

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.synced
	$(VENV)/bin/mypy

test: setup lint typecheck
	PATH="$(SAM_PATH)" SAM_CLI_TELEMETRY=0 TTRELAY_SAM_BIN=$(SAM_VENV)/bin/sam TTRELAY_CFN_LINT_BIN=$(SAM_VENV)/bin/cfn-lint \
		$(VENV)/bin/pytest

sdk-check: $(VENV)/.synced $(SDK_MODULES)
	$(VENV)/bin/pytest tests/unit/test_sdk_package.py -q -p no:cacheprovider

# Build and deploy with the pinned SAM CLI (requirements/sam.lock). sam build validates the python3.13
# runtime against PATH ("Binary validation failed" otherwise), so PYTHON313's directory goes first, as
# for make test.
SAM_ENV := PATH="$(SAM_PATH)" SAM_CLI_TELEMETRY=0
SAM := $(SAM_ENV) $(SAM_VENV)/bin/sam
SAMCONFIG ?= samconfig.toml
CONFIG_ENV ?= default
STACK ?=
GUIDED ?=
ALLOW_LOCAL_ORIGINS ?=

build: $(SAM_VENV)/.synced
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found (install it, e.g. 'pyenv install 3.13')" >&2; exit 1; }
	$(SAM) build --config-file $(abspath $(SAMCONFIG)) --config-env $(CONFIG_ENV)

# `sam deploy --guided` would ask all 38 parameters and deploy whatever example Enter keeps, with no hook
# before CloudFormation. So the deploy check asks only what a site owner must decide (on a first deploy,
# with GUIDED=1, or when a value is wrong), refuses example pixels and origins, then runs `sam deploy`
# with the checked parameters and saves them to samconfig.toml (devtools/ttrelay_dev/cli/deploy_check.py).
deploy: build $(VENV)/.synced
	$(SAM_ENV) $(VENV)/bin/python -m ttrelay_dev.cli.deploy_check --sam $(SAM_VENV)/bin/sam \
		--config-file $(abspath $(SAMCONFIG)) --config-env $(CONFIG_ENV) $(if $(STACK),--stack-name $(STACK)) \
		$(if $(GUIDED),--ask) $(if $(ALLOW_LOCAL_ORIGINS),--allow-local-origins)

# The Lambda layer's pins (shared/requirements.txt), with hashes, from uv.lock: the runtime dependencies
# only (no dev or "local" group). boto3 and what only it pulls in are left out because the python3.13
# runtime provides them: bundling them would add megabytes to every cold start's layer for no gain.
# tests/integration/test_template.py fails when the file drifts from this export.
LAYER_REQUIREMENTS ?= shared/requirements.txt
RUNTIME_PROVIDED := boto3 botocore s3transfer python-dateutil six urllib3
layer-requirements: $(UV)
	{ echo "# The ttrelay Lambda layer's runtime dependencies, exported from uv.lock by make layer-requirements."; \
	  echo "# Do not edit: change pyproject.toml, run uv lock, then make layer-requirements."; \
	  $(UV) export --frozen --no-dev --no-group local --no-emit-project --no-header --format requirements-txt \
		$(addprefix --no-emit-package ,$(RUNTIME_PROVIDED)); } > $(LAYER_REQUIREMENTS)

# The delivery-guarantee harness (docs/delivery.md): make chaos N=20000
N ?= 20000
chaos: $(VENV)/.synced
	$(VENV)/bin/ttrelay chaos --events $(N)

bench: $(VENV)/.synced
	$(VENV)/bin/python bench/run.py

# The demo pages' npm packages (web/package-lock.json), copied into web/demo/vendor/ with their licenses.
# The output is committed: run this after changing web/package.json, never from a test.
.PHONY: vendor-web
vendor-web:
	web/vendor.sh

clean:
	rm -rf $(VENV) .tools .aws-sam .pytest_cache .mypy_cache .ruff_cache
