# Two entry points (README): `make demo` sets up and runs the quick CPDRL
# reproduction; `make test` sets up and runs the test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-all benchmark docs test-rllib test-benchmarl clean
RLLIB_VENV ?= .venv-rllib
BENCHMARL_VENV ?= .venv-benchmarl

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

$(BENCHMARL_VENV)/.installed: pyproject.toml requirements/benchmarl.txt requirements/benchmarl-nodeps.txt
	$(PYTHON) -m venv $(BENCHMARL_VENV)
	# BenchMARL 1.5.2 needs torchrl 0.11 (the main venv has 0.14): its own venv,
	# torch 2.13.0 CPU first; BenchMARL without deps (requirements/benchmarl.txt says why).
	$(BENCHMARL_VENV)/bin/pip install --quiet torch==2.13.0
	$(BENCHMARL_VENV)/bin/pip install --quiet -e . "pytest>=7.4" -r requirements/benchmarl.txt
	$(BENCHMARL_VENV)/bin/pip install --quiet --no-deps -r requirements/benchmarl-nodeps.txt
	$(BENCHMARL_VENV)/bin/python -c "import torch, benchmarl; assert torch.__version__.startswith('2.13.0'), torch.__version__"
	touch $@

test-benchmarl: $(BENCHMARL_VENV)/.installed
	$(BENCHMARL_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/test_ecosystem_benchmarl.py tests/test_docs.py -k benchmarl

clean:
	rm -rf $(VENV) $(RLLIB_VENV) $(BENCHMARL_VENV) runs site .pytest_cache
