# `make run` and `make test` are all a newcomer needs (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# The address every absolute link is built on (and the only Host accepted):
# `make run` serves on 127.0.0.1:$(PORT) unless PUBLIC_BASE_URL is set.
PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
PYTEST_ARGS ?=
# `make test` spreads the suite over the CPU cores (pytest-xdist); PYTEST_WORKERS=0 runs it
# in one process. `make e2e` always runs serially: its journeys are one story in file order.
PYTEST_WORKERS ?= auto
CHROMIUM ?= /usr/bin/chromium
export FLASK_APP := donations

.PHONY: run test e2e e2e-system-packages lint format bench install install-dev install-e2e clean

# The web server and a job queue consumer (`flask jobs work`) side by side; Ctrl+C stops both.
run: $(VENV)/.installed instance/config.py
	PUBLIC_BASE_URL='$(PUBLIC_BASE_URL)' $(BIN)/flask db upgrade
	PUBLIC_BASE_URL='$(PUBLIC_BASE_URL)' $(BIN)/flask demo load
	@echo "Serving on http://127.0.0.1:$(PORT), links on $(PUBLIC_BASE_URL), with a job consumer  (Ctrl+C stops both)"
	@PUBLIC_BASE_URL='$(PUBLIC_BASE_URL)' $(BIN)/flask jobs work --workers 2 --nice 10 & consumer=$$!; \
	  stop() { trap - INT TERM EXIT; kill -TERM $$consumer 2>/dev/null; wait $$consumer 2>/dev/null; }; \
	  trap stop INT TERM EXIT; \
	  PUBLIC_BASE_URL='$(PUBLIC_BASE_URL)' $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Browser tests: the journeys in headless Chromium (Debian's), with axe and
# screenshots at 1280 and 375 px under artifacts/e2e/. Needs chromium and
# pdftoppm (poppler-utils): installed here when missing.
e2e: $(VENV)/.installed-e2e
	@command -v $(CHROMIUM) >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 \
	  || $(MAKE) --no-print-directory e2e-system-packages
	$(BIN)/python -m pytest -p no:xdist e2e $(PYTEST_ARGS)

# Debian's chromium and poppler-utils, installed when missing (needs root, as on CI).
e2e-system-packages:
	@if [ "$$(id -u)" -ne 0 ]; then echo "run: sudo apt-get install -y chromium poppler-utils" >&2; exit 1; fi
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null

# Benchmarks: run by hand, each prints a ratio against a baseline measured in the same run;
# DATABASE_URL=postgresql+psycopg://... runs them on an empty PostgreSQL database.
bench: $(VENV)/.installed-dev
	cd bench && ../$(BIN)/python bench_give_page.py
	cd bench && ../$(BIN)/python bench_webhooks.py
	cd bench && ../$(BIN)/python bench_inventory.py
	cd bench && ../$(BIN)/python bench_receipt_pdf.py
	cd bench && ../$(BIN)/python bench_year_end.py
	cd bench && ../$(BIN)/python bench_gifts_csv.py
	cd bench && ../$(BIN)/python bench_startup.py
	cd bench && ../$(BIN)/python bench_scale.py
	cd bench && ../$(BIN)/python bench_coalition.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
install-e2e: $(VENV)/.installed-e2e

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

$(VENV)/.installed-e2e: requirements-e2e.txt requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-e2e.txt
	touch $(VENV)/.installed $(VENV)/.installed-dev $@

# A random SECRET_KEY for this machine, written once and never committed.
instance/config.py: | $(BIN)/python
	mkdir -p instance
	$(BIN)/python -c "import secrets; print(f'SECRET_KEY = {secrets.token_hex(32)!r}')" > $@.tmp
	printf '%s\n' \
	  '# `make run` serves plain http on 127.0.0.1, where a Secure cookie cannot be set.' \
	  '# Remove these two lines when the app is served over HTTPS.' \
	  'SESSION_COOKIE_SECURE = False' \
	  'REMEMBER_COOKIE_SECURE = False' >> $@.tmp
	mv $@.tmp $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts
