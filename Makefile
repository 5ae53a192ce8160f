# promkm-qr: `make run` for the app with demo data, `make test` for the whole suite.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
# Install Debian packages automatically when we may (root or passwordless sudo).
CAN_APT := $(shell [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null && echo yes)
APT_MODE := $(if $(CAN_APT),install,check)

.PHONY: install run test lint format messages clean

$(VENV)/.installed: requirements.txt package.json
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	npm install --no-audit --no-fund --silent
	touch $@

install: $(VENV)/.installed
	scripts/system_deps.sh $(APT_MODE) runtime
	$(VENV)/bin/pybabel compile -d promkm_qr/translations >/dev/null

run: install
	$(FLASK) setup --demo
	@$(PY) -m promkm_qr.banner
	$(VENV)/bin/honcho -f Procfile start

test: install
	scripts/system_deps.sh $(APT_MODE) test
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache

# Extract translatable strings and merge them into the English catalogue.
messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -o /tmp/promkm-messages.pot . >/dev/null
	$(VENV)/bin/pybabel update -i /tmp/promkm-messages.pot -d promkm_qr/translations
