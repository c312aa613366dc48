# One entry point for developers and CI. Every target installs what it needs first, so
# each works by itself on a fresh clone: `make run`, `make test`.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip install --quiet --constraint constraints.txt
STAMP  := $(VENV)/.installed

LIBS     := libs/eventlog[postgres,esdb,eventlet] libs/contracts libs/appkit libs/protos libs/apikit libs/servicekit libs/incidentctl libs/notify
SERVICES := services/incident services/detection services/paging services/postmortem services/comms services/audit services/runbooks
DEV      := pytest pytest-timeout hypothesis ruff mypy eventsourcing aiosmtpd types-python-dateutil playwright \
           kubernetes-validate pagerduty

.PHONY: install services observability browser test test-fast lint bench proto run clean help

help:
	@echo "make install   create .venv and install every lib, service and tool (idempotent)"
	@echo "make run       start the platform locally against RabbitMQ and the SQLite log"
	@echo "make test      run the whole test suite (starts RabbitMQ/PostgreSQL if down)"
	@echo "make lint      ruff + mypy (strict)"
	@echo "make bench     run benchmarks, print ratios, write docs/benchmarks.md"
	@echo "make proto     regenerate gRPC stubs from proto/"
	@echo "make observability  install Debian prometheus + alertmanager for e2e tests (root)"
	@echo "make browser   install Debian chromium for the headless web tests (root)"

install: $(STAMP)

$(STAMP): constraints.txt Makefile $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip==23.2.1 hatchling==1.33.0 editables==0.5
	$(PIP) --no-build-isolation $(foreach p,$(LIBS) $(SERVICES),-e '$(p)') $(DEV)
	@touch $(STAMP)

services:
	@deploy/local/ensure-services.sh

observability:
	@deploy/local/install-observability.sh

browser:
	@deploy/local/install-browser.sh

test: install services observability browser
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not postgres and not rabbitmq"

lint: install
	$(BIN)/ruff check libs services tests deploy
	$(BIN)/ruff format --check libs services tests deploy
	$(BIN)/mypy $(filter-out libs/protos/src,$(wildcard libs/*/src)) $(wildcard services/*/src)

bench: install services observability
	$(BIN)/python -m tests.benchmarks.run --write docs/benchmarks.md

proto: install
	$(BIN)/python -m grpc_tools.protoc -I proto --python_out=libs/protos/src \
		--pyi_out=libs/protos/src --grpc_python_out=libs/protos/src \
		$$(find proto -name '*.proto' | sort)
	@echo "regenerated stubs in libs/protos/src"

run: install
	$(BIN)/python deploy/local/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
