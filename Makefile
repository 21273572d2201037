# Two commands: `make lab` opens the course in JupyterLab, `make test` runs every test
# (`make test-fast` the tests that grade nothing, while you work). `make apps` serves the widgets as
# web pages with no code, `make book` builds the lectures as an HTML site that works offline.
# Both create .venv and install the project from pyproject.toml the first time, and skip that
# step when nothing changed since (the stamp file is newer than pyproject.toml). setuptools' working
# folders (the egg-info, build/) go into .venv through DIST_EXTRA_CONFIG, not the course's top level.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_ARGS ?=
APPS_ARGS ?=
BOOK_ARGS ?=
# The environment's commands (jupyter, nbgrader, alembic) come first, as if it were activated.
export PATH := $(abspath $(BIN)):$(PATH)
# Jupyter refuses to start as root (containers, CI) unless told it is deliberate.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
PYTEST_ARGS ?=

.PHONY: setup sandbox browser lab apps book test test-fast bench clean hub-env proxy hub hub-clean \
  hub-tools

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

# The playground and each unit's main widget as web pages with no code, on the reference nnlib
# (Voilà serves apps/; its index page lists them). Options reach Voilà through APPS_ARGS, e.g.
# "--no-browser --port 8866". Voilà runs as root as it is (it has no --allow-root to give).
apps: setup
	@echo "make apps: the index of the apps is at <the address below>/voila/render/index.ipynb"
	$(BIN)/voila apps/ $(APPS_ARGS)

# The lectures as an HTML site in _build/book/ that needs no network (book/build.py: executed
# lectures are cached by digest, so a rebuild executes only the changed ones). BOOK_ARGS: e.g.
# "--lectures 06_softmax playground".
book: setup
	$(BIN)/python book/build.py $(BOOK_ARGS)

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
test: setup browser hub-tools
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

# The course hub (deploy/jupyterhub/): `make hub` starts a DEMO hub on 127.0.0.1 with one instructor
# and two students (local accounts it creates; root only), `make hub-clean` removes them. The
# users' servers run the course from an environment of their own in HUB_DIR, made with the system's
# Python: every account can run it (the project's .venv may sit where only its owner can enter).
HUB_DIR ?= /srv/nn-course-hub
export HUB_DIR  # tests/test_hub.py finds the hub environment there
HUB_PORT ?= 8000
HUB_PYTHON ?= $(firstword $(wildcard /usr/bin/python3) $(PYTHON))
HUB_ENV := $(HUB_DIR)/env

HUB_STAMP := $(HUB_ENV)/.installed
# Every account's server runs from this environment, so it holds copies, readable by all, of the
# project (installed, not editable: a checkout may be private to its owner) and of the recipe's
# server settings (share/nncourse-hub). Made again when any of them changed, or when another
# checkout, named in the stamp, installed itself there last.
HUB_SOURCES := pyproject.toml $(shell git ls-files autograder nncourse deploy/jupyterhub 2>/dev/null)
ifneq ($(shell cat $(HUB_STAMP) 2>/dev/null),$(CURDIR))
.PHONY: $(HUB_STAMP)
endif

hub-env: $(HUB_STAMP)

$(HUB_STAMP): $(HUB_SOURCES)
	test -x $(HUB_ENV)/bin/python || $(HUB_PYTHON) -m venv $(HUB_ENV)
	$(HUB_ENV)/bin/python -m pip install --quiet --upgrade pip
	printf '[egg_info]\negg_base = $(HUB_ENV)\n[build]\nbuild_base = $(HUB_ENV)/build\n' > $(HUB_ENV)/setuptools.cfg
	DIST_EXTRA_CONFIG=$(HUB_ENV)/setuptools.cfg $(HUB_ENV)/bin/python -m pip install --quiet '.[hub]'
	rm -rf $(HUB_ENV)/share/nncourse-hub && mkdir -p $(HUB_ENV)/share \
	  && cp -R deploy/jupyterhub $(HUB_ENV)/share/nncourse-hub
	chmod -R a+rX $(HUB_DIR)
	echo '$(CURDIR)' > $@

# JupyterHub's proxy, from npm, into .venv/proxy (where node and npm are installed; otherwise the
# hub and its test say what is missing).
proxy:
	@test -x $(VENV)/proxy/node_modules/.bin/configurable-http-proxy || { command -v npm >/dev/null 2>&1 \
	  && npm install --silent --prefix $(VENV)/proxy configurable-http-proxy@5 >/dev/null; } \
	  || echo "make: could not install configurable-http-proxy (needs node and npm); the hub needs it"

# tests/test_hub.py needs both (and root, to create its accounts): made by `make test` when root.
hub-tools:
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory hub-env proxy \
	  || echo "make: could not prepare the hub's tools; tests/test_hub.py will skip and say why"; \
	  else echo "make: not root, so tests/test_hub.py will skip (it creates local accounts)"; fi

hub: setup hub-env proxy
	$(HUB_ENV)/bin/python deploy/jupyterhub/course_hub.py start --dir $(HUB_DIR) --port $(HUB_PORT)

hub-clean:
	@test -x $(HUB_ENV)/bin/python || { echo "make: no hub in $(HUB_DIR)"; exit 0; }; \
	  $(HUB_ENV)/bin/python deploy/jupyterhub/course_hub.py clean --dir $(HUB_DIR)

clean:
	rm -rf $(VENV)
