# The two set-up commands of the README. Both build .venv on a fresh machine (torch CPU build first).
PYTHON ?= python3
VENV ?= .venv
SUITE_DATA_DIR ?= $(abspath ../shared/data)
export SUITE_DATA_DIR

.PHONY: setup demo test bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet "torch==2.13.0" || $(VENV)/bin/pip install --quiet "torch>=2.2"
	$(VENV)/bin/pip install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/suite tasks all
	$(VENV)/bin/suite data verify all

test: setup
	$(VENV)/bin/python -m pytest -q

bench: setup
	$(VENV)/bin/python benchmarks/bench_data.py
