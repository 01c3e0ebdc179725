# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
MANAGE := $(PY) manage.py
# The embedded default: SQLite, tasks in-process, console e-mail. Override in the environment.
DEV_ENV := DEBUG=$${DEBUG:-1}

.PHONY: run test venv install install-test assets messages compilemessages migrate seed \
        worker beat lint format check-deploy clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

venv: $(BIN)/activate

$(VENV)/.installed: requirements.txt | venv
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt | venv
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed assets compilemessages
install-test: $(VENV)/.installed-test assets compilemessages

# Front-end packages from the npm registry, pinned by package-lock.json, copied into static/.
static/vendor/.copied: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf static/vendor && mkdir -p static/vendor/bootstrap static/vendor/bootstrap-icons static/vendor/htmx
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map static/vendor/bootstrap/
	cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map static/vendor/bootstrap/
	cp -r node_modules/bootstrap-icons/font/bootstrap-icons.min.css node_modules/bootstrap-icons/font/fonts static/vendor/bootstrap-icons/
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/
	touch $@

assets: static/vendor/.copied

compilemessages: $(VENV)/.installed
	$(DEV_ENV) $(MANAGE) compilemessages --ignore=.venv --ignore=node_modules -v 0

messages: $(VENV)/.installed
	$(DEV_ENV) $(MANAGE) makemessages -l zh_Hans --no-location --ignore=.venv --ignore=node_modules --ignore=staticfiles

migrate: install
	$(DEV_ENV) $(MANAGE) migrate --noinput

seed: migrate
	$(DEV_ENV) $(MANAGE) seed_demo

run: seed
	@echo "Serving http://127.0.0.1:8000  (stop with Ctrl-C)"
	$(DEV_ENV) $(MANAGE) runserver 127.0.0.1:8000

test: install-test
	$(BIN)/pytest

worker: install
	$(BIN)/celery -A volunteer_platform worker --loglevel=INFO

beat: install
	$(BIN)/celery -A volunteer_platform beat --loglevel=INFO

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-deploy: install
	DEBUG=0 SECRET_KEY=$${SECRET_KEY:-check-deploy-only-$$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')} \
	  ALLOWED_HOSTS=$${ALLOWED_HOSTS:-volunteer.example.org} \
	  FIELD_ENCRYPTION_KEYS=$${FIELD_ENCRYPTION_KEYS:-$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')} \
	  BLIND_INDEX_KEY=$${BLIND_INDEX_KEY:-check-deploy-only-$$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')} \
	  $(MANAGE) check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles .pytest_cache
