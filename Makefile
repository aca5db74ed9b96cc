# The two set-up commands of the README. Both build .venv on a fresh machine (torch first, see below).
PYTHON ?= python3
VENV ?= .venv
# torch as the field installs it: PyTorch's CPU wheel index where no NVIDIA GPU answers (PyPI's default build is the
# multi-GB CUDA one), PyPI's CUDA build where one does. Where the CPU index cannot be reached (only the package
# registries answer), PyPI's torch==$(TORCH) is the fallback; then any torch ≥ 2.2 PyPI has for this Python.
TORCH ?= 2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
SUITE_DATA_DIR ?= $(abspath ../shared/data)
export SUITE_DATA_DIR

.PHONY: setup demo report ui test bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then \
	  $(VENV)/bin/pip install --quiet "torch==$(TORCH)" || $(VENV)/bin/pip install --quiet "torch>=2.2"; \
	else \
	  $(VENV)/bin/pip install --quiet --timeout 15 --retries 1 --index-url $(TORCH_CPU_INDEX) "torch==$(TORCH)" \
	  || $(VENV)/bin/pip install --quiet "torch==$(TORCH)" || $(VENV)/bin/pip install --quiet "torch>=2.2"; \
	fi
	$(VENV)/bin/pip install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed

# The main job on the embedded defaults: local Ray, SQLite MLflow store under ./runs/, the demo task shipped in
# the package (no download): CNN baseline vs FinDNA (quick profile), 2 seeds, leaderboard at the end.
demo: setup
	$(VENV)/bin/suite run --models cnn,findna --tasks prom_core_tata --profile quick --seeds 2

# After the demo, from any shell (no venv to activate): the report of the finished runs (reports/out/report.html)
# and the MLflow UI on the leaderboard (the URL it prints; Ctrl-C stops it).
report: setup
	$(VENV)/bin/suite report

ui: setup
	$(VENV)/bin/suite ui

test: setup
	$(VENV)/bin/python -m pytest -q

bench: setup
	mkdir -p runs && rm -f runs/bench.jsonl
	BENCH_OUT=runs/bench.jsonl $(VENV)/bin/python benchmarks/bench_commands.py
	BENCH_OUT=runs/bench.jsonl $(VENV)/bin/python benchmarks/bench_data.py
	BENCH_OUT=runs/bench.jsonl $(VENV)/bin/python benchmarks/bench_genome.py
	BENCH_OUT=runs/bench.jsonl $(VENV)/bin/python benchmarks/bench_harness.py
	BENCH_OUT=runs/bench.jsonl $(VENV)/bin/python benchmarks/bench_probe.py
	BENCH_OUT=runs/bench.jsonl $(VENV)/bin/python benchmarks/bench_wrappers.py --part tokens
	BENCH_OUT=runs/bench.jsonl $(VENV)/bin/python benchmarks/bench_backbones.py --lengths 1024 8192
	$(VENV)/bin/python benchmarks/collect.py runs/bench.jsonl --out runs/performance.md
