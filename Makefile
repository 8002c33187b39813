# The two commands a user needs: `make run` and `make test`. Both set up first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Python 3.10 (tfx 1.16 needs >=3.9,<3.11): PYTHON310 if given, else python3.10
# on PATH, else the newest 3.10 that pyenv knows.
PYTHON310 ?= $(shell \
  if python3.10 -c '' >/dev/null 2>&1; then command -v python3.10; \
  elif command -v pyenv >/dev/null 2>&1; then \
    v=$$(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$$' | sort -V | tail -n1); \
    [ -n "$$v" ] && echo "$$(pyenv prefix $$v)/bin/python3.10"; \
  fi)

RUN_ARGS ?=
TEST_ARGS ?=
# A marker expression added to each test target's own with "and" (a second
# -m in TEST_ARGS would replace it), e.g. make test TEST_MARK="not e2e".
TEST_MARK ?=
# Test files run on one worker per core (pytest-xdist; a file's tests stay on
# one worker, so its module-scoped pipeline run is made once). TEST_WORKERS=0
# runs them in this process.
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 1)
xdist = -n $(TEST_WORKERS) --dist loadfile
and_mark = $(if $(strip $(TEST_MARK)), and ($(TEST_MARK)),)
# The pipeline's container image; give a registry path to push it, e.g.
# make image IMAGE=gcr.io/my-project/mtl-pipeline:1
IMAGE ?= mtl-pipeline:latest
KFP_OUTPUT ?= pipeline.json
KFP_ARGS ?=
DRY_RUN_ROOT ?= outputs/kubeflow-dry-run
DRY_RUN_ARGS ?= --config data/kubeflow_dry_run.yaml

.PHONY: setup run test test-slow lock chromium clean image kubeflow kubeflow-dry-run bench bench-quality

setup: $(STAMP)

# Reinstalls only when the lock or the package metadata changed.
$(STAMP): requirements.lock pyproject.toml
	@if [ -z "$(PYTHON310)" ]; then echo "error: Python 3.10 not found; install it (e.g. 'pyenv install 3.10') or pass PYTHON310=/path/to/python3.10" >&2; exit 1; fi
	@if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then \
	  rm -rf $(VENV) && $(PYTHON310) -m venv $(VENV); fi
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade 'pip==24.2'
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: setup
	$(PY) pipeline/local_runner.py $(RUN_ARGS)

test: setup chromium
	$(PY) -m pytest $(xdist) -m "not faults and not slow$(and_mark)" --durations=15 $(TEST_ARGS)

# The slow tests: faults caused for real (kills, concurrent runs, damaged state, a full disk)
# and the longest end-to-end runs (the Kubeflow spec executed step by step, Beam's portable
# job service and multi-process runner, every architecture through the pipeline, the change gate's
# second run, the own-data runs with binary tasks). CI runs them after `make test`.
test-slow: setup chromium
	$(PY) -m pytest $(xdist) -m "(faults or slow)$(and_mark)" --durations=15 $(TEST_ARGS)

# Performance benchmarks (tables on stdout, JSON in outputs/bench/). Each stage
# against a ceiling measured in the same process; BENCH_1M=1 adds the
# 1,000,000-example run to the scaling table (about 10 min on 2 idle cores)
# and runs the own-table benchmark at a million rows instead of 100,000.
BENCH_EVAL_EXAMPLES ?= 200000
BENCH_1M ?=
bench: setup
	$(PY) bench/example_gen.py --num-examples 100000
	$(PY) bench/trainer.py
	$(PY) bench/model_save.py
	$(PY) bench/evaluator.py --eval-examples $(BENCH_EVAL_EXAMPLES) --repeats 3
	@echo "== classification =="
	$(PY) bench/evaluator.py --config data/synthetic_binary.yaml --eval-examples $(BENCH_EVAL_EXAMPLES) --repeats 3
	$(PY) bench/eval_own_data.py --repeats 3
	$(PY) bench/own_tables.py $(if $(BENCH_1M),,--synthetic-examples 100000 --csv-rows 100000)
	$(PY) bench/serving.py
	$(PY) bench/scaling.py $(if $(BENCH_1M),--with-1m,)
	$(PY) bench/daily_loop.py --rows 100000 --window 3

# Needs a Docker engine; builds from the lock file (see Dockerfile).
image:
	docker build -t $(IMAGE) .

# Compiles the pipeline for Kubeflow Pipelines / Vertex AI (KFP_ARGS: --pipeline-root ... etc.).
kubeflow: setup
	$(VENV)/bin/mtl-kubeflow --output $(KFP_OUTPUT) --image $(IMAGE) $(KFP_ARGS)

# Compiles the pipeline with a local root and executes the spec twice, step by
# step, each step in its own process (see docs/kubeflow.md, "Dry run before deploying").
kubeflow-dry-run: setup
	rm -rf $(DRY_RUN_ROOT)
	$(VENV)/bin/mtl-kubeflow-dry-run --root $(DRY_RUN_ROOT) $(DRY_RUN_ARGS)

# Headless Chromium renders the evaluation report in the end-to-end report test.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

# Re-resolve the pinned set after changing dependencies in pyproject.toml.
lock:
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --python-version 3.10 \
	  --python-platform x86_64-manylinux_2_31 --no-annotate -o requirements.lock

clean:
	rm -rf $(VENV) outputs

# The quality benchmark: the pipeline's defaults against scikit-learn on public tables.
bench-quality: setup
	$(PY) bench/quality.py $(BENCH_ARGS)
