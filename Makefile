# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Translations are compiled in the build (Babel: no system gettext needed).
MO := $(patsubst %.po,%.mo,$(wildcard feedback/locale/*/LC_MESSAGES/django.po))

.PHONY: run test lint format bench clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade 'pip>=25.3'
	$(BIN)/pip install --quiet --build-constraint .ci/build-constraints.txt -e '.[dev]'
	touch $(STAMP)

run: export DEBUG = 1
%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

messages: $(MO)

run: $(STAMP) $(MO)
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint $(MO)
	$(BIN)/python -m pytest

bench: $(STAMP) $(MO)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var/*.sqlite3 var/broker var/outbox var/static
