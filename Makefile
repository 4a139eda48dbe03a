# peixun — two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint format check-migrations serve clean

$(BIN)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "需要 Python 3.11（$(PYTHON)）"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/pip install --quiet --no-deps face_recognition==1.3.0
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(BIN)/.installed node_modules/.installed

# Development server with demo data. PEIXUN_DEBUG uses development keys; production sets its own.
run: install
	./scripts/ensure-browser.sh --system-only
	PEIXUN_DEBUG=true $(BIN)/peixun migrate --noinput -v0
	PEIXUN_DEBUG=true $(BIN)/peixun load_reference
	PEIXUN_DEBUG=true $(BIN)/peixun seed_demo
	@echo "peixun: http://$(HOST):$(PORT)/"
	PEIXUN_DEBUG=true $(BIN)/peixun runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-migrations: install
	PEIXUN_TESTING=true $(BIN)/peixun makemigrations --check --dry-run -v0

test: install lint check-migrations
	./scripts/ensure-browser.sh
	PEIXUN_TESTING=true $(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules var
