# Development entry points. `make demo` and `make test` are the two set-up commands in the
# README; both work from a clean clone on a fresh machine (Rust toolchain + Python 3.11).
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= fast
WHEELS := target/wheels
DEV_DEPS := "maturin>=1.9.4,<2" "pytest>=8" "pytest-benchmark>=4" "hypothesis>=6" "pyarrow>=14" "polars>=1" "duckdb>=1.2" numpy ruff "mypy>=1.18" pyyaml check-jsonschema "pyiceberg[sql-sqlite,sql-postgres,pyarrow,pyiceberg-core]>=0.12" "deltalake>=1.6" "sqlglot>=30" "sqlalchemy>=2" "pandas>=2" fastavro cramjam "backports.zstd; python_version<'3.14'" openpyxl xlwt odfpy python-calamine msoffcrypto-tool "pm4py>=2.7" "obstore>=0.12" "moto[server]>=5"
# Release wheels: every Linux target of ci/build-wheels.sh unless WHEEL_TARGETS names some.
DIST := dist
WHEEL_TARGETS ?=

.PHONY: help venv build demo test test-rust test-python lint format bench yardstick fuzz-seed fuzz-smoke fuzz clean \
	wheels sdist wheel-smoke sdist-smoke

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(VENV)/.deps: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(DEV_DEPS)
	touch $@

venv: $(VENV)/.deps ## create .venv with the development tools

build: $(VENV)/.deps ## build the wheel (profile $(PROFILE)) and install it into .venv
	rm -f $(WHEELS)/logflow-*.whl
	$(VENV)/bin/maturin build --profile $(PROFILE) -o $(WHEELS)
	$(PY) -m pip install -q --force-reinstall --no-deps $(WHEELS)/logflow-*.whl

demo: build ## build, install, convert the bundled sample and query the result
	mkdir -p target/demo
	$(VENV)/bin/logflow convert tests/data/csv/sample.csv target/demo/sample.parquet
	$(PY) -c "import duckdb; duckdb.sql(\"select activity, count(*) as n, round(sum(amount), 2) as amount from 'target/demo/sample.parquet' group by all order by n desc\").show()"
	$(VENV)/bin/logflow ingest tests/data/csv/sample.csv events --warehouse target/demo/warehouse
	$(VENV)/bin/logflow query "select activity, count(*) as n, round(sum(amount), 2) as amount from events group by all order by n desc" --warehouse target/demo/warehouse

test: build test-rust test-python ## build once, then every Rust and Python test

test-rust: ## cargo test for the workspace (shares the build profile with the wheel)
	cargo test --workspace --profile $(PROFILE)

test-python: ## stubtest (the native module's .pyi is true), then pytest against the installed wheel
	$(PY) -m mypy.stubtest logflow._native
	$(PY) -m pytest

lint: ## rustfmt, clippy, ruff
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --profile $(PROFILE) -- -D warnings
	$(VENV)/bin/ruff check python tests benches
	$(VENV)/bin/ruff format --check python tests benches

format: ## format Rust and Python
	cargo fmt --all
	$(VENV)/bin/ruff format python tests benches
	$(VENV)/bin/ruff check --fix python tests benches

bench: build ## pytest-benchmark suite (generates its data on first run)
	$(PY) -m pytest benches --benchmark-enable --benchmark-only

yardstick: build ## logflow side by side with DuckDB, Polars, PyArrow (see benches/README.md)
	$(PY) benches/run_yardstick.py

fuzz-seed: ## fill fuzz/corpus/ from tests/data and the conformance CSVs
	fuzz/seed.sh

fuzz-smoke: ## every fuzz target over its seed corpus, then 10 s each (needs cargo-fuzz)
	fuzz/run.sh smoke

$(VENV)/.wheel-deps: ci/wheel-requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r ci/wheel-requirements.txt
	touch $@

wheels: $(VENV)/.wheel-deps ## portable Linux wheels (manylinux2014, musllinux_1_2) + sdist into dist/, checked
	PYTHON=$(PY) OUT=$(DIST) ci/build-wheels.sh $(WHEEL_TARGETS)
	$(MAKE) --no-print-directory sdist

sdist: $(VENV)/.wheel-deps ## the source distribution into dist/
	rm -f $(DIST)/logflow-*.tar.gz
	$(VENV)/bin/maturin sdist -o $(DIST)

wheel-smoke: ## dist/'s x86_64 manylinux wheel in a fresh venv, no Rust on PATH: tests/smoke
	@test -n "$(wildcard $(DIST)/logflow-*manylinux_2_17_x86_64.whl)" \
		|| { echo "no x86_64 manylinux wheel in $(DIST)/: run make wheels first"; exit 1; }
	$(PYTHON) ci/smoke_wheel.py $(wildcard $(DIST)/logflow-*manylinux_2_17_x86_64.whl)

sdist-smoke: ## dist/'s sdist built by pip in a fresh venv (needs Rust), then tests/smoke
	@test -n "$(wildcard $(DIST)/logflow-*.tar.gz)" \
		|| { echo "no sdist in $(DIST)/: run make sdist first"; exit 1; }
	$(PYTHON) ci/smoke_wheel.py $(wildcard $(DIST)/logflow-*.tar.gz)

fuzz: ## every fuzz target for FUZZ_SECONDS (default 300) each
	fuzz/run.sh long $${FUZZ_SECONDS:-300}

clean: ## remove build outputs
	cargo clean
	rm -rf $(VENV) target/demo $(DIST)
