# Two commands do all set-up on a fresh machine (Python 3.11+ and make):
#   make up     start the whole platform on the embedded stack
#   make test   lint (ruff, import layers), type-check and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PROTOS := $(shell find protos -name '*.proto')
PROTO_STAMP := $(VENV)/.protos-stamp

.PHONY: up test lint typecheck pytest promtool browser protos bench clean constraints

# Dependencies install at the versions of constraints.txt, the ones the suite last passed with:
# a release on the package index changes nothing until `make constraints` takes it in.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

# Resolve pyproject.toml's ranges afresh in a scratch venv and write what it got; then `make test`.
constraints:
	rm -rf .venv-constraints && $(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/python -m pip install --quiet --upgrade pip
	.venv-constraints/bin/python -m pip install --quiet ".[dev]"
	{ sed -n '1,3p' constraints.txt; .venv-constraints/bin/python -m pip freeze --exclude-editable \
	  | grep -v '^saga-platform\b'; } > constraints.new && mv constraints.new constraints.txt
	rm -rf .venv-constraints

# Generated gRPC code is built from protos/ and never committed or edited by hand.
$(PROTO_STAMP): $(STAMP) $(PROTOS)
	@if [ -n "$(PROTOS)" ]; then \
	  PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m grpc_tools.protoc -I . --python_out=. --grpc_python_out=. \
	    --mypy_out=. --mypy_grpc_out=. $(PROTOS); fi
	@touch $(PROTO_STAMP)

protos: $(PROTO_STAMP)

up: $(PROTO_STAMP)
	$(BIN)/saga up

lint: $(PROTO_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(PROTO_STAMP)
	$(BIN)/mypy .

# The alert rules' unit tests (tests/unit/test_alert_rules.py) run Debian's promtool.
promtool:
	@command -v promtool >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus)

# The web app's browser tests (tests/web) drive Debian's Chromium; Playwright cannot download its own.
browser:
	@command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

pytest: $(PROTO_STAMP) promtool browser
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(PROTO_STAMP)
	$(BIN)/python -m bench.order_saga
	$(BIN)/python -m bench.balance
	$(BIN)/python -m bench.gateway
	$(BIN)/python -m bench.poker

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
