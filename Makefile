# Lumbar spine imaging atlas. `make demo` sets everything up and serves the published release; `make test` runs all tests.
PY      ?= $(shell command -v python3.11 || command -v python3)
VENV    := .venv
BIN     := $(VENV)/bin
SCALE   ?= 0.1
SEED    ?= 42
EXTRACTS := data/extracts
DB      := data/atlas.duckdb
RELEASE := data/release.duckdb
PORT    ?= 8050
# processes protecting the release's counts side by side (the same result as 1)
RELEASE_WORKERS ?= 2
# 2 workers of 1 thread on 2 cores: measured by the benchmark's journey (50 readers, release), callback
# p95 205 ms with 1 thread, 378-522 ms with 2, 744 ms with 4 (threads of one worker take turns on its GIL)
WORKERS ?= 2
THREADS ?= 1

.PHONY: release demo data serve serve-dev test test-fast lint deadcode bench clean venv screenshot plotly-bundle

# the demo's synthetic data are made up (nothing to disclose), and at its scale 0.1 the joint gate
# would hide 61 % more cells (18 points of the municipalities' 3-year default view) and take 14
# minutes (docs/methods.md): the demo measures it only
demo: JOINT_GATE = off
demo: release serve-dev

$(BIN)/.installed: pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PY) not found); set PY=python3 if that is 3.11+"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@$(MAKE) --no-print-directory plotly-bundle || echo "plotly-bundle not built (npm missing?): the app serves the full plotly.js"
	@touch $@

venv: $(BIN)/.installed

# plotly.js with only the trace types the atlas draws (tools/plotly-bundle/README.md); the app serves
# it instead of the full plotly.min.js when it exists
PLOTLY_BUNDLE := assets/plotly-atlas.min.js
plotly-bundle: $(PLOTLY_BUNDLE)
$(PLOTLY_BUNDLE): tools/plotly-bundle/entry.js tools/plotly-bundle/package.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed to build $@"; exit 1; }
	mkdir -p build/plotly-bundle
	cp tools/plotly-bundle/package.json tools/plotly-bundle/entry.js build/plotly-bundle/
	cd build/plotly-bundle && npm install --silent --no-audit --no-fund --ignore-scripts
	cd build/plotly-bundle && ./node_modules/.bin/esbuild entry.js --bundle --minify --format=iife \
		--define:global=window --log-level=warning --outfile=plotly-atlas.min.js
	cp build/plotly-bundle/plotly-atlas.min.js $@
	$(BIN)/python tools/plotly-bundle/precompress.py $@

$(EXTRACTS)/SYNTHETIC: $(BIN)/.installed
	$(BIN)/python -m etl generate --scale $(SCALE) --seed $(SEED) --out $(EXTRACTS)

data: $(BIN)/.installed $(EXTRACTS)/SYNTHETIC
	$(BIN)/python -m etl build --input $(EXTRACTS) --db $(DB)

# the published release and its output-check report (data/release-report.md); fails if the audit fails
# JOINT_GATE=on|off overrides the plan's joint_protection (on by default: every hidden count from 1
# to 4 proven over all counts together, or nothing is written)
release: data
	$(BIN)/python -m etl release --db $(DB) --out $(RELEASE) --workers $(RELEASE_WORKERS) $(if $(JOINT_GATE),--joint-gate $(JOINT_GATE),)

# serve-dev serves the release (what the public sees); ATLAS_DB=data/atlas.duckdb serves the secure database
SERVE_DB ?= $(RELEASE)

serve-dev: $(BIN)/.installed
	@echo "Serving the atlas ($(SERVE_DB)) at http://127.0.0.1:$(PORT)"
	ATLAS_DB=$${ATLAS_DB:-$(SERVE_DB)} $(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --threads $(THREADS) --timeout 60 app:server

serve: release
	@echo "Serving the atlas ($${ATLAS_DB:-$(SERVE_DB)}) at http://127.0.0.1:$(PORT) with $(WORKERS) workers"
	ATLAS_DB=$${ATLAS_DB:-$(SERVE_DB)} $(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers $(WORKERS) --threads $(THREADS) --timeout 60 app:server

# two test processes (pytest-xdist); browser tests and release tests each stay on one of them
TEST_WORKERS ?= 2

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup --durations=25

# ruff with the rules in pyproject.toml ([tool.ruff]); .ci/run runs it before the tests
lint: $(BIN)/.installed
	$(BIN)/ruff check .

# what nothing calls (vulture, [tool.vulture] in pyproject.toml): a list to read, not a gate
deadcode: $(BIN)/.installed
	$(BIN)/vulture || true

test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -q -m "not browser and not slow"

bench: $(BIN)/.installed
	$(BIN)/python -m bench --scale 1.0

clean:
	rm -rf $(EXTRACTS) $(DB) $(RELEASE) data/release-report.md data/rejected data/bench/work
