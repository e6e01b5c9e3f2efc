# samrad – two commands: `make run` and `make test`. Both work on a fresh machine with Python 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install test-deps system-deps translations extract-messages lint audit mutation screenshots time-sweep clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"

# Re-install only when the dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed translations

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d samrad/translations -f >/dev/null 2>&1 || \
	  $(BIN)/pybabel compile -d samrad/translations

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o samrad/translations/messages.pot --no-location --sort-output --no-wrap .
	$(BIN)/pybabel update -i samrad/translations/messages.pot -d samrad/translations --ignore-obsolete --no-fuzzy-matching --no-wrap

# The scheduler (e-mail delivery, reminders, retention) runs next to the web server and stops with it.
# Links in e-mails, calendar files and the printed accounts point where this server listens
# (SAMRAD_PUBLIC_URL, when set, wins).
run: export SAMRAD_PUBLIC_URL := $(or $(SAMRAD_PUBLIC_URL),http://$(HOST):$(PORT))
run: install
	$(BIN)/samrad init-config
	$(BIN)/samrad demo --if-empty
	@$(BIN)/samrad scheduler & scheduler=$$!; \
	  trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/samrad run --host $(HOST) --port $(PORT)

system-deps:
	@bash scripts/system-deps.sh

# What the tests do not see drifts: style, formatting and copied code are checked on every `make test`.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pylint --disable=all --enable=duplicate-code --min-similarity-lines=6 \
	  --ignore-imports=yes --ignore-docstrings=yes --ignore-comments=yes --score=no samrad
	$(BIN)/mypy

test: system-deps $(VENV)/.installed-test translations lint audit
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Known vulnerabilities in the installed dependencies (a visible skip when the advisory database is unreachable).
audit: $(VENV)/.installed-test
	$(BIN)/python scripts/audit_dependencies.py

$(VENV)/.installed-mutation: pyproject.toml $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e ".[test,mutation]"
	touch $@

# Mutation testing of the guard, the suppression and the permission layer (a few minutes; not in `make test`).
mutation: $(VENV)/.installed-mutation translations
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 > /dev/null 2>&1 || true
	$(BIN)/python scripts/mutation_score.py

# The start page of each role at 1280 and 390 px, as README shows them (the browser tests take them).
screenshots: system-deps $(VENV)/.installed-test translations
	SAMRAD_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/browser/test_start_pages.py \
	  -k each_start_page -q

# The day-dependent tests with the clock set to moments that have broken them (libfaketime; about half an
# hour; not in `make test`). Run it after changing the demo or anything that reads the time.
time-sweep: system-deps $(VENV)/.installed-test translations
	bash scripts/time_sweep.sh

clean:
	rm -rf $(VENV) .pytest_cache mutants
