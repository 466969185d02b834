# `make run` and `make test` do all the set-up on a fresh Debian/Ubuntu machine:
# a virtualenv with requirements.txt, and Chromium + ChromeDriver (+ tmux for the
# terminal test) from apt-get when they are missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT    := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get
CODE   := api cli common contacts dashboard jobs settings simulator store supervisor webhooks worker tui.py

.PHONY: run test test-fast bytecode check typecheck demo worker simulator setup system-packages test-packages bench clean

run: setup
	$(PY) tui.py

# The whole suite (tests/README.md): pytest-xdist runs it in $(TEST_JOBS) processes; each
# chaos group runs in one of them (--dist loadgroup: "chaos", "chaos-fleet" for accounts and
# hosts, "chaos-dom-2024" and "chaos-dom-2026").
TEST_JOBS ?= 3
XDIST     := -n $(TEST_JOBS) --dist loadgroup

# The checks run beside the tests (they take a core for half a minute, mostly mypy); their
# output comes after pytest's, and either failing fails the run.
CHECK_LOG := $(VENV)/check.log

test: setup test-packages bytecode
	@$(MAKE) --no-print-directory check >$(CHECK_LOG) 2>&1 & checks=$$!; \
	$(PY) -m pytest $(XDIST); tests=$$?; \
	wait $$checks; checked=$$?; \
	echo "== make check (run beside the tests)"; cat $(CHECK_LOG); \
	[ $$checked -eq 0 ] || echo "make test: the checks failed (above)"; \
	[ $$tests -eq 0 ] && [ $$checked -eq 0 ]

# The inner loop: unit and integration tests, no browser.
test-fast: setup test-packages bytecode
	$(PY) -m pytest $(XDIST) tests/unit tests/integration

# The product's modules compiled once: where PYTHONDONTWRITEBYTECODE is set, every worker,
# supervisor and CLI process the tests start would compile them anew (Python still reads
# the .pyc files; only writing is off).
bytecode: setup
	@$(PY) -m compileall -q -j 0 $(CODE)

# The layers, the linter, the formatter and the type checker (docs/design.md, "Checked,
# not described").
check: setup typecheck
	$(VENV)/bin/ruff check $(CODE) bench tests
	$(VENV)/bin/ruff format --check $(CODE) bench tests
	$(VENV)/bin/lint-imports

# mypy with the settings of pyproject.toml (the files it lists).
typecheck: setup
	$(VENV)/bin/mypy

demo: setup
	$(PY) tui.py demo

worker: setup
	$(PY) tui.py worker

simulator: setup
	$(PY) tui.py simulator

bench: setup test-packages
	$(PY) bench/bench_store.py
	$(PY) bench/bench_import.py
	$(PY) bench/bench_worker.py
	$(PY) bench/bench_dashboard.py
	$(PY) bench/bench_doctor.py
	$(PY) bench/bench_accounts.py
	$(PY) bench/bench_replies.py
	$(PY) bench/bench_api.py
	$(PY) bench/bench_idle.py

setup: system-packages $(STAMP)

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { $(APT) update -qq && $(APT) install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile -r requirements.txt
	@# pip compiles what it installs on one core; compileall uses all (set-up 23 s, not 36 s, on 2 cores).
	@# Python still writes no .pyc of its own where PYTHONDONTWRITEBYTECODE is set: without
	@# these, every process the tests start would compile its libraries anew. A file that
	@# does not compile (a package's template or test data) is no error, as under pip.
	@# Left out: what no process of ours imports (pip, setuptools; phonenumbers' geocoder
	@# and carrier data, 43 MB, 3.6 s of CPU) or imports once (mypy).
	@$(PY) -m compileall -q -j 0 -x '/site-packages/(pip|setuptools|mypy|mypyc|phonenumbers/(geodata|carrierdata))/' \
	  $(VENV)/lib/python3*/site-packages >/dev/null || true
	rm -f $(VENV)/.installed-*
	touch $@

# Debian's packages: `chromium` and `chromium-driver` (browser tests and the worker),
# `tmux` (the terminal test). Other systems: see the README.
system-packages:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	command -v tmux >/dev/null 2>&1 || missing="$$missing tmux"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "installing:$$missing"; \
	    $(APT) update -qq && $(APT) install -y -qq $$missing; \
	  else \
	    echo "missing:$$missing; install Chromium, ChromeDriver and tmux by hand (see README)"; exit 1; \
	  fi; \
	fi

# The tests also need PostgreSQL's server programs: they start throw-away clusters with
# initdb/pg_ctl in temporary folders. Debian's package would also create and start a
# cluster of its own on port 5432; createcluster.conf tells it not to (when we write it).
test-packages:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "installing: postgresql"; \
	    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then \
	      $(SUDO) mkdir -p /etc/postgresql-common && \
	      echo "create_main_cluster = false" | $(SUDO) tee /etc/postgresql-common/createcluster.conf >/dev/null; \
	    fi; \
	    $(APT) update -qq && $(APT) install -y -qq postgresql; \
	  else \
	    echo "missing: PostgreSQL (its initdb and pg_ctl) for the tests; install it by hand (see README)"; exit 1; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache
