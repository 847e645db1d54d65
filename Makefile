# Entry points for people and CI. The README names two of them for a fresh
# machine: `make demo` (the main job) and `make test` (every test suite).

SHELL := /bin/bash
PYTEST := uv run --frozen --extra dev pytest

.PHONY: help deps venv tools up down status demo test test-unit test-integration lint fmt generate clean-stack

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

deps: ## install missing Debian packages and uv
	hack/install-deps.sh

venv: deps ## create .venv from uv.lock (with the dev tools)
	uv sync --frozen --extra dev

tools: deps ## build the control plane, helm, MinIO, Prometheus and promtool (cached by version)
	hack/build-tools.sh

up: tools ## start the local stack (idempotent)
	hack/stack.sh up

down: ## stop the demo's local kubelet (and its processes) and the local stack
	hack/e2e.sh down
	hack/stack.sh down

status: ## show which components of the stack run
	hack/stack.sh status

demo: ## the main job: the stack, the operator, the API, the worker and a worked example
	hack/demo.sh

test: venv tools ## run every suite (unit, integration, e2e) with coverage
	$(PYTEST) --cov --cov-report=term --cov-report=xml

test-unit: venv ## run the unit tests only (no services)
	$(PYTEST) -m unit

lint: venv ## ruff, mypy, import contracts, generated files and shellcheck
	uv run --frozen ruff check .
	uv run --frozen ruff format --check .
	uv run --frozen mypy
	uv run --frozen lint-imports
	uv run --frozen python hack/generate.py --check
	shellcheck -x hack/*.sh hack/lib/*.sh .ci/run
	hack/lint-dockerfiles.sh

fmt: venv ## format the code
	uv run --frozen ruff check --fix .
	uv run --frozen ruff format .

generate: venv ## rewrite the chart's copies of crds/ and of the operator's RBAC rules
	uv run --frozen python hack/generate.py

clean-stack: down ## stop the stack and delete its data (not the cached tools)
	rm -rf .state
