# demine developer tasks. Everything runs from the project venv (.venv/bin/...).

PY ?= python3
# Two pytest-xdist workers (each builds its own templates; see tests/conftest.py). Not
# --dist loadfile/loadgroup: schemathesis' operations share one node id there and only one runs.
PYTEST_ARGS ?= -q -n 2
DEMO_DB ?= demo.gpkg
DEMO_ARGS ?=
BENCH_ARGS ?=
# make bench-gis: the national demo as a GeoPackage and in PostGIS (empty URL: GeoPackage only)
BENCH_GIS_DB ?= /tmp/bench-gis-national.gpkg
BENCH_GIS_URL ?= postgresql+psycopg://demine:demine@127.0.0.1:55432/bench_national
TILES_ARGS ?=
OGC_ARGS ?=

STAMP := .venv/.installed
# npm ci + scripts/build-assets.mjs → src/demine/web/static/vendor (git-ignored)
ASSETS := src/demine/web/static/vendor/manifest.json
# via bash so a lost executable bit does not matter
POSTGIS := bash scripts/postgis.sh

.PHONY: help venv assets messages demo test test-gpkg test-fuzz lint bench bench-gis postgis-start postgis-stop clean

help:
	@echo "make venv           create .venv and install -e .[test,bench]"
	@echo "make assets         npm ci and build the web UI's libraries into the package's static files"
	@echo "make messages       extract the web UI's messages and update each language's .po"
	@echo "make demo           build demo.gpkg and serve it on :8000 (DEMO_ARGS=--scale small ...)"
	@echo "make test           ruff + pytest on GeoPackage and PostGIS (PYTEST_ARGS=...)"
	@echo "make test-gpkg      pytest without PostGIS"
	@echo "make test-fuzz      the long schemathesis run (DEMINE_SCHEMATHESIS_SLOW_EXAMPLES=100)"
	@echo "make lint           ruff check"
	@echo "make bench          run benchmarks (BENCH_ARGS=...)"
	@echo "make bench-gis      vector tiles, and OGC API items vs pygeoapi (BENCH_GIS_DB, BENCH_GIS_URL)"
	@echo "make postgis-start  start the throwaway PostGIS cluster (scripts/postgis.sh)"
	@echo "make postgis-stop   stop it"
	@echo "make clean          remove .venv, build artefacts, demo.gpkg*"

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x .venv/bin/python || $(PY) -m venv .venv
	.venv/bin/python -m pip install --upgrade pip
	.venv/bin/python -m pip install -e '.[test,bench]'
	touch $@

# --ignore-scripts: no install script runs (swagger-ui-dist's would phone home; none is needed)
assets: $(ASSETS)

$(ASSETS): package.json package-lock.json scripts/build-assets.mjs
	npm ci --ignore-scripts --no-audit --no-fund
	npm run build

# The .po files are the catalogues' one source: the app compiles them in memory when a language
# is first used, so no .mo is built or committed (tests/test_ui_translations.py checks them).
LOCALES := src/demine/web/ui/locale
messages: venv
	.venv/bin/pybabel extract -F babel.cfg --no-location --omit-header --sort-output \
	  -o $(LOCALES)/messages.pot .
	.venv/bin/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) --width 100 --ignore-obsolete \
	  --no-fuzzy-matching

demo: venv assets
	.venv/bin/demine demo --db $(DEMO_DB) --replace $(DEMO_ARGS)

test: venv assets
	$(POSTGIS) start
	.venv/bin/ruff check src tests benchmarks
	DEMINE_TEST_DATABASE_URL="$$($(POSTGIS) url)" && export DEMINE_TEST_DATABASE_URL && \
	  .venv/bin/pytest $(PYTEST_ARGS)

test-gpkg: venv assets
	env -u DEMINE_TEST_DATABASE_URL .venv/bin/pytest $(PYTEST_ARGS)

test-fuzz: venv
	DEMINE_SCHEMATHESIS_SLOW_EXAMPLES=$${DEMINE_SCHEMATHESIS_SLOW_EXAMPLES:-100} \
	  .venv/bin/pytest -q -m slow tests/test_schemathesis.py

lint: venv
	.venv/bin/ruff check src tests benchmarks

bench: venv
	.venv/bin/python -m benchmarks $(BENCH_ARGS)

# Both run even when the first misses a target; the exit status says whether either failed.
bench-gis: venv
	status=0; \
	.venv/bin/python -m benchmarks.tiles --db $(BENCH_GIS_DB) \
	  $(if $(BENCH_GIS_URL),--database-url $(BENCH_GIS_URL)) $(TILES_ARGS) || status=1; \
	.venv/bin/python -m benchmarks.ogc_peer --db $(BENCH_GIS_DB) \
	  $(if $(BENCH_GIS_URL),--database-url $(BENCH_GIS_URL)) $(OGC_ARGS) || status=1; \
	exit $$status

postgis-start:
	$(POSTGIS) start

postgis-stop:
	$(POSTGIS) stop

clean:
	rm -rf .venv node_modules src/demine/web/static/vendor artefacts build dist *.egg-info src/*.egg-info .pytest_cache .ruff_cache .hypothesis
	rm -f demo.gpkg demo.gpkg-wal demo.gpkg-shm demo.gpkg-journal
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
