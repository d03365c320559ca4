# Two commands for a new machine: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# Flags for `spoc demo`, e.g. make demo DEMO_ARGS="--ehr-port 8201 --app-port 8101" when 8200/8100 are taken.
DEMO_ARGS ?=

.PHONY: demo test bench serve clean

$(BIN)/spoc: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(BIN)/spoc

demo: $(BIN)/spoc  ## the app and the bundled sandbox EHR, on this machine
	$(BIN)/spoc demo $(DEMO_ARGS)

test: $(BIN)/spoc  ## the whole suite (PostgreSQL and Chromium tests skip locally when absent; CI requires them)
	$(BIN)/python -m pytest

bench: $(BIN)/spoc  ## speed and memory figures (not pass/fail)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache
