# Two entry points (README): `make demo` sets up and runs the quick CPDRL
# reproduction; `make test` sets up and runs the test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-all benchmark docs test-rllib clean
RLLIB_VENV ?= .venv-rllib

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# The CPU wheel first, so that nothing below pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[test,bench,docs]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/reproduce.py cpdrl --budget quick

test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -n auto -m "slow or not slow"

benchmark: $(STAMP)
	$(BIN)/python scripts/benchmark.py

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

$(RLLIB_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(RLLIB_VENV)
	# ray[rllib] pins gymnasium 1.2.x: its own venv, never the main one.
	$(RLLIB_VENV)/bin/pip install --quiet torch==2.13.0
	$(RLLIB_VENV)/bin/pip install --quiet -e ".[rllib]" "pytest>=7.4"
	touch $@

test-rllib: $(RLLIB_VENV)/.installed
	$(RLLIB_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/test_ecosystem_rllib.py tests/test_docs.py -k rllib

clean:
	rm -rf $(VENV) $(RLLIB_VENV) runs site .pytest_cache
