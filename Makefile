# Quick start: `make demo` runs the main job, `make test` the test suite.
# Both create .venv (idempotently) with Python 3.11 and install alsstats into it, with
# the jax extra (quick first compile of the Bayesian models, see docs/index.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow lint bench bench-studies clean

# Speed benchmarks (minutes) and the long studies (SBC, cold start, convergence, class
# scales: an hour or more); each script also runs alone (benchmarks/RESULTS.md).
BENCH_QUICK := simulate validation power longitudinal diagnostic ingest startup

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,jax]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/alsstats demo

test: $(STAMP)
	$(BIN)/python -m pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

lint: $(STAMP)
	$(BIN)/ruff check alsstats tests benchmarks

bench: $(STAMP)
	for b in $(BENCH_QUICK); do $(BIN)/python benchmarks/bench_$$b.py || exit 1; done

bench-studies: $(STAMP)
	$(BIN)/python benchmarks/bench_sbc.py longitudinal --replicates 100
	$(BIN)/python benchmarks/bench_sbc.py diagnostic --replicates 100
	$(BIN)/python benchmarks/bench_cold_start.py
	$(BIN)/python benchmarks/bench_convergence.py
	$(BIN)/python benchmarks/bench_diagnostic_scales.py

clean:
	rm -rf $(VENV) build *.egg-info
