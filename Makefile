# demine developer tasks. Everything runs from the project venv (.venv/bin/...).

PY ?= python3
PYTEST_ARGS ?= -q
DEMO_DB ?= demo.gpkg
DEMO_ARGS ?=
BENCH_ARGS ?=

STAMP := .venv/.installed
# via bash so a lost executable bit does not matter
POSTGIS := bash scripts/postgis.sh

.PHONY: help venv demo test test-gpkg test-fuzz lint bench postgis-start postgis-stop clean

help:
	@echo "make venv           create .venv and install -e .[test,bench]"
	@echo "make demo           build demo.gpkg and serve it on :8000 (DEMO_ARGS=--scale small ...)"
	@echo "make test           ruff + pytest on GeoPackage and PostGIS (PYTEST_ARGS=...)"
	@echo "make test-gpkg      pytest without PostGIS"
	@echo "make test-fuzz      the long schemathesis run (DEMINE_SCHEMATHESIS_SLOW_EXAMPLES=100)"
	@echo "make lint           ruff check"
	@echo "make bench          run benchmarks (BENCH_ARGS=...)"
	@echo "make postgis-start  start the throwaway PostGIS cluster (scripts/postgis.sh)"
	@echo "make postgis-stop   stop it"
	@echo "make clean          remove .venv, build artefacts, demo.gpkg*"

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x .venv/bin/python || $(PY) -m venv .venv
	.venv/bin/python -m pip install --upgrade pip
	.venv/bin/python -m pip install -e '.[test,bench]'
	touch $@

demo: venv
	.venv/bin/demine demo --db $(DEMO_DB) --replace $(DEMO_ARGS)

test: venv
	$(POSTGIS) start
	.venv/bin/ruff check src tests benchmarks
	DEMINE_TEST_DATABASE_URL="$$($(POSTGIS) url)" && export DEMINE_TEST_DATABASE_URL && \
	  .venv/bin/pytest $(PYTEST_ARGS)

test-gpkg: venv
	env -u DEMINE_TEST_DATABASE_URL .venv/bin/pytest $(PYTEST_ARGS)

test-fuzz: venv
	DEMINE_SCHEMATHESIS_SLOW_EXAMPLES=$${DEMINE_SCHEMATHESIS_SLOW_EXAMPLES:-100} \
	  .venv/bin/pytest -q -m slow tests/test_schemathesis.py

lint: venv
	.venv/bin/ruff check src tests benchmarks

bench: venv
	.venv/bin/python -m benchmarks $(BENCH_ARGS)

postgis-start:
	$(POSTGIS) start

postgis-stop:
	$(POSTGIS) stop

clean:
	rm -rf .venv build dist *.egg-info src/*.egg-info .pytest_cache .ruff_cache .hypothesis
	rm -f demo.gpkg demo.gpkg-wal demo.gpkg-shm demo.gpkg-journal
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
