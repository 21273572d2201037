# Two commands: `make lab` opens the course in JupyterLab, `make test` runs every test
# (`make test-fast` the tests that grade nothing, while you work).
# Both create .venv and install the project from pyproject.toml the first time, and skip that
# step when nothing changed since (the stamp file is newer than pyproject.toml). setuptools' working
# folders (the egg-info, build/) go into .venv through DIST_EXTRA_CONFIG, not the course's top level.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_ARGS ?=
# The environment's commands (jupyter, nbgrader, alembic) come first, as if it were activated.
export PATH := $(abspath $(BIN)):$(PATH)
# Jupyter refuses to start as root (containers, CI) unless told it is deliberate.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
PYTEST_ARGS ?=

.PHONY: setup sandbox browser lab test test-fast bench clean

setup: $(STAMP) sandbox

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	printf '[egg_info]\negg_base = $(VENV)\n[build]\nbuild_base = $(VENV)/build\n' > $(VENV)/setuptools.cfg
	rm -rf nn_from_scratch_course.egg-info
	DIST_EXTRA_CONFIG=$(abspath $(VENV))/setuptools.cfg $(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

lab: setup
	$(BIN)/jupyter lab $(ROOT_FLAG) $(LAB_ARGS)

# `autograder grade` runs every student's code in a bubblewrap sandbox (autograder/sandbox.py):
# installed here when missing and we may (root with apt-get); otherwise it says what to install.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap \
	  >/dev/null; } || echo "make: could not install bubblewrap (apt-get install bubblewrap);" \
	  "autograder grade needs it to isolate submissions"

# The browser tests drive Debian's Chromium (never a downloaded one): installed here when missing
# and we may (root with apt-get); otherwise those tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	  chromium-driver >/dev/null; } || echo "make: could not install Chromium; browser tests will skip"

# Test files run on every core (a file's tests stay together: its fixtures are built once), and
# BLAS keeps to one thread per process: with every core busy, its extra threads only wait.
# Every unit's simulated class grades its reference and untouched release with real nbgrader, as
# `autograder check` does (tests/test_course_coverage.py keeps it so), so the suite covers it.
test: export OPENBLAS_NUM_THREADS = 1
test: export OMP_NUM_THREADS = 1
test: export MKL_NUM_THREADS = 1
test: setup browser
	$(BIN)/python -m pytest -n auto --dist loadfile --durations=15 $(PYTEST_ARGS)

# The tier to run while working: everything but the tests that grade with real nbgrader or run
# student code in the sandbox (marked `slow` or `sandbox`; the simulated classes take minutes a
# unit). No browser either: its tests are all slow. `make test` stays the verdict before merging.
test-fast: export OPENBLAS_NUM_THREADS = 1
test-fast: export OMP_NUM_THREADS = 1
test-fast: export MKL_NUM_THREADS = 1
test-fast: setup
	$(BIN)/python -m pytest -n auto --dist loadfile --durations=10 -m "not slow and not sandbox" $(PYTEST_ARGS)

# Speed against PyTorch: installs the optional `bench` extra (PyTorch CPU) first.
bench: setup
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/bench_mlp.py
	$(BIN)/python benchmarks/bench_conv.py
	$(BIN)/python benchmarks/bench_lstm.py

clean:
	rm -rf $(VENV)
