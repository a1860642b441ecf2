# dbmarketing -- every target bootstraps .venv first, so a fresh clone needs only `make reports` / `make test`.
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
DB      ?= data/crm.duckdb
SOURCES ?= params/sources/sample.yaml
PARAMS  ?= params/default.yaml
# ENGINE=spark: the sums over every purchase run on Spark (README: The Spark engine); the run is
# then called sample-spark, beside the DuckDB one, so the two reports can be compared.
ENGINE  ?=
RUN     ?= $(if $(filter spark,$(ENGINE)),sample-spark,sample)
CUSTOMERS ?= 20000
YEARS   ?= 3
SEED    ?= 42
# Every notebook kernel imports the package from source: let Python keep the compiled files
# (__pycache__, git-ignored) that an environment may have turned off, about 0.3 s a kernel.
unexport PYTHONDONTWRITEBYTECODE
# The exact versions (and their hashes) that .venv is installed from; `make lock` writes it.
LOCK    := requirements.lock
UV_VERSION ?= 0.13.9
UV      := $(VENV)/uv-$(UV_VERSION)/bin/uv

.PHONY: setup lock lock-upgrade data reports editions test lab bench clean classroom classroom-run course

setup: $(VENV)/.installed

# (Re)install when the dependencies or their lock change: exactly the versions of the lock,
# each file checked against its hash, then the project itself without dependencies. pip check
# fails when pyproject.toml asks for something the lock does not hold (run `make lock`).
# The venv must be Python >= 3.11.
$(VENV)/.installed: pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed, found " + sys.version)'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	@$(PY) -m pip check || { echo "$(LOCK) does not hold what pyproject.toml asks for: run make lock" >&2; exit 1; }
	@# The Spark engine (and its tests in make test) needs Java 17: say so now, in one line, if it is missing.
	@$(PY) -c 'from dbmarketing.warehouse.spark import find_java; find_java()' || echo "note: the Spark engine will not start until Java 17 is installed (see the line above)" >&2
	touch $@

# The lock, from PyPI, by uv: one file for Linux, macOS and Windows and every Python >= 3.11
# (a universal resolution; a platform's own packages carry markers). `make lock` keeps the
# versions already locked and follows pyproject.toml (a package added, removed or with a new
# bound); `make lock-upgrade` moves every package to its newest release pyproject.toml allows.
# Either way .venv is re-installed from the new lock by the next make.
lock: $(UV)
	$(UV) pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
	    --custom-compile-command 'make lock' --quiet --output-file $(LOCK) $(LOCK_FLAGS)

lock-upgrade:
	$(MAKE) lock LOCK_FLAGS=--upgrade

# uv itself, a pinned release, kept beside the venv (not in it: it is no dependency of the workbook).
$(UV):
	$(PYTHON) -m pip install --quiet --target $(VENV)/uv-$(UV_VERSION) uv==$(UV_VERSION)

# The sample database: raw files + truth schema, then the load. Built aside and moved into
# place at the end, so an interrupted build never leaves a half-made database behind.
data: $(DB)

$(DB): | $(VENV)/.installed
	rm -f $(DB).tmp $(DB).tmp.wal
	$(PY) -m dbmarketing sample --out data/raw --db $(DB).tmp --customers $(CUSTOMERS) --years $(YEARS) --seed $(SEED)
	$(PY) -m dbmarketing load --db $(DB).tmp --sources $(SOURCES)
	mv $(DB).tmp $(DB)

reports: $(VENV)/.installed $(DB)
	$(PY) -m dbmarketing report --params $(PARAMS) --run $(RUN) $(if $(ENGINE),--set engine=$(ENGINE))

# The course (README, "For trainers"): the classroom sample (small enough that every notebook runs
# in seconds, the same generator and planted truths), the classroom run of every notebook with
# its course cells in both editions (every model answer must pass its check), then the trainer
# and student notebooks and the offline slides in reports/course/.
CLASSROOM_DB ?= data/classroom.duckdb
# 3,000 people: the fewest with which every section runs (at 1,500 the e-mail campaign's control
# cell holds 2 responders, too few for chapter 05's uplift model and so for its next list)
CLASSROOM_CUSTOMERS ?= 3000
classroom: $(CLASSROOM_DB)

$(CLASSROOM_DB): | $(VENV)/.installed
	rm -f $(CLASSROOM_DB).tmp $(CLASSROOM_DB).tmp.wal
	$(PY) -m dbmarketing sample --out data/classroom/raw --db $(CLASSROOM_DB).tmp --customers $(CLASSROOM_CUSTOMERS) --years 2 --seed $(SEED)
	$(PY) -m dbmarketing load --db $(CLASSROOM_DB).tmp --sources data/classroom/raw/sources.yaml
	mv $(CLASSROOM_DB).tmp $(CLASSROOM_DB)

classroom-run: $(VENV)/.installed $(CLASSROOM_DB)
	$(PY) -m dbmarketing report --params params/classroom.yaml --run classroom --course --quiet
	$(PY) -m dbmarketing report --params params/classroom_zh.yaml --run classroom-zh --course --quiet

course: classroom-run
	$(PY) -m dbmarketing course --out reports/course --run en=reports/classroom --run zh=reports/classroom-zh

# The Chinese edition (notebooks/zh/) keeps its prose and takes the English code cells: run after
# changing a notebook's code (a test fails while an edition departs from the English code).
editions: $(VENV)/.installed
	$(PY) -m dbmarketing editions

# On every core (pytest-xdist): a file's tests on one worker, the data-shape matrix spread out.
# One worker more than the cores: a worker waits while its notebook's kernel starts and its
# pages are written, and the spare one keeps the cores busy then (make test 10 min 12 s with 3
# workers, 11 min 4 s with 2, on 2 cores, 2026-12-07).
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')
test: $(VENV)/.installed
	$(PY) -m pytest -q -n $(TEST_WORKERS) --durations=20

# JupyterLab refuses to start as root unless told --allow-root: told only when root (a
# container, a server). LAB_ARGS passes more options, e.g. LAB_ARGS="--port 8890 --no-browser".
LAB_AS_ROOT = $(if $(filter 0,$(shell id -u)),--allow-root)
lab: $(VENV)/.installed $(DB)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(LAB_AS_ROOT) $(LAB_ARGS)

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_spine.py
	$(PY) benchmarks/bench_clv.py
	$(PY) benchmarks/bench_clean.py
	$(PY) benchmarks/bench_baskets.py
	$(PY) benchmarks/bench_rfm.py --lifetimes-dir data/.cache/lifetimes

# Generated data and every report run (hidden .RUN.partial folders included); the
# committed reports/README.md and data/README.md stay.
clean:
	if [ -d reports ]; then find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +; fi
	rm -rf data/crm.duckdb data/crm.duckdb.* data/raw data/exports data/classroom data/classroom.duckdb* .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
