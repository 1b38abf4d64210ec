# `make run` and `make test` create or refresh .venv from pyproject.toml first.
VENV := .venv
STAMP := $(VENV)/.installed-from-pyproject
PYTHON ?= python3

.PHONY: run test lint bench messages

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
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(VENV)/bin/python bench/api.py --backend both

# Every translatable string of the pages, for updating the .po files under smmpanel/locale:
# `_()`, `N_()` and the templates of refusal kinds (`refusal(code, template)`).
messages: $(STAMP)
	$(VENV)/bin/pybabel --quiet extract --mapping-file babel.cfg --no-location --sort-output \
		--keywords refusal:2 \
		--project smmpanel --output-file smmpanel/locale/messages.pot .
