# `make run` and `make test` create or refresh .venv from pyproject.toml first.
VENV := .venv
STAMP := $(VENV)/.installed-from-pyproject
PYTHON ?= python3

.PHONY: run test test-fast lint bench messages

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/smmpanel serve --demo

# Most of the suite waits on processes (panels, the command line, fake upstreams, Chromium):
# pytest-xdist runs 2 workers, each a whole test module at a time (tests/conftest.py).
test: $(STAMP) lint
	$(VENV)/bin/pytest -n 2 --dist loadscope

# The tests that start no process (no server, no browser): domain rules on both databases, each
# test in a transaction rolled back after it (tests/domain), and the other modules marked fast.
test-fast: $(STAMP)
	$(VENV)/bin/pytest -m fast

lint: $(STAMP)
	$(VENV)/bin/ruff check smmpanel tests bench
	$(VENV)/bin/ruff format --check smmpanel tests bench
	$(VENV)/bin/mypy smmpanel
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(VENV)/bin/python bench/api.py --backend both

# Every translatable string of the pages, for updating the .po files under smmpanel/locale:
# `_()`, `N_()` and the templates of refusal kinds (`refusal(code, template)`).
messages: $(STAMP)
	$(VENV)/bin/pybabel --quiet extract --mapping-file babel.cfg --no-location --sort-output \
		--keywords refusal:2 \
		--project smmpanel --output-file smmpanel/locale/messages.pot .
