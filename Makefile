# `make run` and `make test` create or refresh .venv from pyproject.toml first.
VENV := .venv
STAMP := $(VENV)/.installed-from-pyproject
PYTHON ?= python3

.PHONY: run test lint bench

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/smmpanel serve --demo

test: $(STAMP) lint
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check smmpanel tests bench
	$(VENV)/bin/ruff format --check smmpanel tests bench

bench: $(STAMP)
	$(VENV)/bin/python bench/api.py --backend both
