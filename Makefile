# Two commands for a new machine: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench serve clean

$(BIN)/spoc: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(BIN)/spoc

demo: $(BIN)/spoc  ## the app and the bundled sandbox EHR, on this machine
	$(BIN)/spoc demo

# The independent FHIR engine's packages, when npm is here; without them its tests skip (CI requires them).
ENGINE_PACKAGES := engine/node_modules/.package-lock.json

$(ENGINE_PACKAGES): engine/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix engine --no-audit --no-fund; \
	else echo "npm not found: the tests against the independent FHIR engine will skip"; fi

test: $(BIN)/spoc $(ENGINE_PACKAGES)  ## the whole suite (PostgreSQL, Chromium and engine tests skip locally when absent; CI requires them)
	$(BIN)/python -m pytest

bench: $(BIN)/spoc  ## speed and memory figures (not pass/fail)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache engine/node_modules
