# promkm-qr: `make run` for the app with demo data, `make test` for the whole suite.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
# Install Debian packages automatically when we may (root or passwordless sudo).
CAN_APT := $(shell [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null && echo yes)
APT_MODE := $(if $(CAN_APT),install,check)

.PHONY: install run test lint format messages clean lock

# requirements-dev.txt: runtime + test + bench + dev, pinned with hashes (`make lock`).
# A production server installs requirements.txt alone (docs/operations.md).
$(VENV)/.installed: requirements-dev.txt package.json
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements-dev.txt
	npm install --no-audit --no-fund --silent
	touch $@

install: $(VENV)/.installed
	scripts/system_deps.sh $(APT_MODE) runtime
	$(VENV)/bin/pybabel compile -d promkm_qr/translations -D "messages wtforms" >/dev/null

# The web's port: `make run PORT=8000`. QR codes point at it unless PUBLIC_BASE_URL is set;
# derived here, once, because honcho gives the worker and beat ports of their own (+100, +200).
PORT ?= 5000
RUN_BASE_URL = $(or $(PUBLIC_BASE_URL),http://127.0.0.1:$(PORT))

run: install
	$(FLASK) setup --demo
	@PORT=$(PORT) PUBLIC_BASE_URL=$(RUN_BASE_URL) $(PY) -m promkm_qr.banner
	PUBLIC_BASE_URL=$(RUN_BASE_URL) $(VENV)/bin/honcho -f Procfile start -p $(PORT)

test: install
	scripts/system_deps.sh $(APT_MODE) test
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Regenerate both locks from pyproject.toml after changing its dependencies; versions
# already locked are kept unless UPGRADE=--upgrade.
COMPILE := $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links $(UPGRADE)
lock:
	$(COMPILE) -o requirements.txt pyproject.toml
	$(COMPILE) --extra test --extra bench --extra dev -o requirements-dev.txt pyproject.toml

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache

# Extract translatable strings and merge them into the English catalogue.
messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -o /tmp/promkm-messages.pot . >/dev/null
	$(VENV)/bin/pybabel update -i /tmp/promkm-messages.pot -d promkm_qr/translations
