# The two commands of the README: `make demo` and `make test`. Both start from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MYSQL_HOST ?= 127.0.0.1
MYSQL_PORT ?= 3306
DEMO_DB ?= data/tracker.db
DEMO_PORT ?= 8000
# pytest-xdist workers: the suite waits on MariaDB, Chromium and subprocesses too, so one
# more than the cores keeps them busy (measured on 2 cores: 3 workers 5:58, 4 workers 6:31).
PYTEST_WORKERS ?= 3
# Another apt-get (unattended upgrades, a second clone's make) holds the lock for a while.
APT_WAIT := -o DPkg::Lock::Timeout=600

.PHONY: demo test lint typecheck pytest sysdeps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python sysdeps
	$(BIN)/pip install --quiet -e '.[dev,mysql]'
	touch $@ $(VENV)/.installed

# mysqlclient compiles against the MariaDB client headers, the deployment tests start
# Apache with mod_wsgi, and the dashboard's browser tests drive Debian's Chromium;
# install them when missing.
sysdeps:
	@pkg-config --exists libmariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null || { \
	  echo "installing MariaDB client headers for mysqlclient"; \
	  command -v apt-get >/dev/null || { echo "need libmariadb-dev (or mysql-devel) and pkg-config"; exit 1; }; \
	  apt-get $(APT_WAIT) update -qq && DEBIAN_FRONTEND=noninteractive apt-get $(APT_WAIT) install -y -qq libmariadb-dev pkg-config >/dev/null; }
	@{ [ -x /usr/sbin/apache2 ] && [ -f /usr/lib/apache2/modules/mod_wsgi.so ]; } || { \
	  echo "installing Apache and mod_wsgi for the deployment tests"; \
	  command -v apt-get >/dev/null || { echo "need apache2 and libapache2-mod-wsgi-py3"; exit 1; }; \
	  apt-get $(APT_WAIT) update -qq && DEBIAN_FRONTEND=noninteractive apt-get $(APT_WAIT) install -y -qq apache2 libapache2-mod-wsgi-py3 >/dev/null; }
	@[ -n "$$CHROMIUM" ] || command -v chromium >/dev/null || { \
	  echo "installing Chromium for the dashboard's browser tests"; \
	  command -v apt-get >/dev/null || { echo "need chromium (set CHROMIUM=/path/to/it)"; exit 1; }; \
	  apt-get $(APT_WAIT) update -qq && DEBIAN_FRONTEND=noninteractive apt-get $(APT_WAIT) install -y -qq chromium >/dev/null; }

TRACKER := DATABASE_URL=sqlite:///$(CURDIR)/$(DEMO_DB) $(BIN)/themepark-tracker --log-format text --log-level WARNING

# The whole system on the embedded SQLite database, offline: 30 days of simulated history
# (made once, then only the gap since the last run), the local feed, a collector cycle
# every 60 s against it, and the API with the dashboard on http://127.0.0.1:8000.
demo: $(VENV)/.installed
	$(TRACKER) demo --port $(DEMO_PORT)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# TEST_MYSQL_URL is set when MariaDB answers; REQUIRE_MYSQL=1 (CI) makes its absence fatal.
pytest: $(VENV)/.installed-dev
	@if [ -z "$$TEST_MYSQL_URL" ] && $(BIN)/python -c "import MySQLdb; MySQLdb.connect(host='$(MYSQL_HOST)', port=$(MYSQL_PORT), user='root').close()" 2>/dev/null; then \
	  export TEST_MYSQL_URL="mysql+mysqldb://root@$(MYSQL_HOST):$(MYSQL_PORT)/test"; \
	fi; \
	echo "TEST_MYSQL_URL=$${TEST_MYSQL_URL:-<unset: MariaDB tests not collected>}"; \
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup --cov --cov-report=term --cov-fail-under=85 $(PYTEST_ARGS)

test: lint typecheck pytest

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .coverage
