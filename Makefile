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

# The main job on the embedded defaults: local Ray, SQLite MLflow store under ./runs/, the demo task shipped in
# the package (no download): CNN baseline vs FinDNA (quick profile), 3 seeds, leaderboard at the end.
demo: setup
	$(VENV)/bin/suite run --models cnn,findna --tasks prom_core_tata --profile quick --seeds 3

test: setup
	$(VENV)/bin/python -m pytest -q

bench: setup
	$(VENV)/bin/python benchmarks/bench_data.py
	$(VENV)/bin/python benchmarks/bench_harness.py
	$(VENV)/bin/python benchmarks/bench_backbones.py
	$(VENV)/bin/python benchmarks/bench_wrappers.py
