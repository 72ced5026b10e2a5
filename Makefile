# Zongzhi: two commands. `make run` serves the demo on SQLite; `make test` checks everything.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/zongzhi
export DJANGO_SETTINGS_MODULE := zongzhi.settings

.PHONY: run serve test setup setup-dev system-deps lint test-sqlite test-pg bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

# Browser tests drive Debian's Chromium. `make test` skips them (saying so) when it is missing;
# `.ci/run` runs this target first and makes them mandatory.
system-deps:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null || { \
	  echo "installing Debian's poppler-utils (pdftoppm, pdftotext) for the document tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq poppler-utils >/dev/null; }

run: setup
	$(PY) manage.py migrate --no-input -v0
	$(PY) manage.py seed_demo --scale league --living
	@$(PY) manage.py demo_logins
	@echo "background-task worker: manage.py db_worker (log in var/worker.log)"
	@echo "deadline scheduler: manage.py scheduler, queues the deadline sweep every 10 minutes (log in var/scheduler.log)"
	@$(PY) manage.py db_worker > var/worker.log 2>&1 & \
	  worker=$$!; \
	  $(PY) manage.py scheduler > var/scheduler.log 2>&1 & \
	  scheduler=$$!; trap "kill $$worker $$scheduler 2>/dev/null" EXIT INT TERM; \
	  $(PY) manage.py runserver 127.0.0.1:8000

# Production-style serving: gunicorn (deploy/gunicorn.conf.py) with the task worker and the scheduler,
# on whatever DATABASE_URL and ZONGZHI_* the environment gives (deploy/zongzhi.env.example). No demo data.
serve: setup
	$(PY) manage.py migrate --no-input -v0
	$(PY) manage.py collectstatic --no-input -v0
	@mkdir -p var
	@$(PY) manage.py db_worker > var/worker.log 2>&1 & \
	  worker=$$!; \
	  $(PY) manage.py scheduler > var/scheduler.log 2>&1 & \
	  scheduler=$$!; trap "kill $$worker $$scheduler 2>/dev/null" EXIT INT TERM; \
	  $(VENV)/bin/gunicorn --config deploy/gunicorn.conf.py

lint: setup-dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .
	$(PY) manage.py makemigrations --check --dry-run

test-sqlite: setup-dev
	@echo "== pytest on SQLite"
	env -u DATABASE_URL $(VENV)/bin/pytest -q

# PostgreSQL runs when reachable; ZONGZHI_REQUIRE_PG=1 (set by .ci/run) makes it mandatory. The run
# records every SQL template (server and command processes too) and fails on a statement on a
# case-side table without its region code that is not a documented national read or on
# tests/sql_region_baseline.txt (docs/national.md).
test-pg: setup-dev
	@if $(PY) scripts/pg_reachable.py "$(PG_URL)"; then \
	  echo "== pytest on PostgreSQL ($(PG_URL)), every SQL template recorded"; \
	  rm -rf var/sql-record; \
	  ZONGZHI_SQL_RECORD=$(CURDIR)/var/sql-record DATABASE_URL=$(PG_URL) $(VENV)/bin/pytest -q; \
	elif [ "$$ZONGZHI_REQUIRE_PG" = 1 ]; then \
	  echo "PostgreSQL at $(PG_URL) is not reachable and ZONGZHI_REQUIRE_PG=1"; exit 1; \
	else \
	  echo "!! SKIPPED the PostgreSQL run and its region-predicate check: nothing answers at $(PG_URL)"; \
	fi

test: lint test-sqlite test-pg

bench: setup-dev
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) var
