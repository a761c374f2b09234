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

# -qq: errors only; setuptools' notice about editable installs is not for a newcomer.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -qq --upgrade 'pip>=25.3'
	$(BIN)/pip install -qq --build-constraint .ci/build-constraints.txt -e '.[dev]'
	touch $(STAMP)

run: export DEBUG = 1
%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

messages: $(MO)

# A newcomer's settings, read by portal/settings.py (a variable set in the environment wins):
# DEBUG on and a random SECRET_KEY. Made once, never overwritten; ignored by git.
.env:
	umask 077 && $(PYTHON) -c 'import secrets; print("DEBUG=1"); print("SECRET_KEY=" + secrets.token_urlsafe(50))' > $@.tmp
	mv $@.tmp $@

# The web process listens on WEB_PORT (default 8000; see the Procfile).
# honcho -e /dev/null: the settings read .env themselves and let the environment win;
# honcho would read it too, but over the environment.
# Ctrl-C is how the demo stops: honcho stops the three processes and exits 130, which is
# no error to report (the shell leaves the signal to honcho, and maps 130 to success).
# The demo story has a mail server fail now and then on purpose: seed_demo logs only
# errors, so those expected failures do not read as trouble (the dashboard shows them).
run: $(STAMP) $(MO) .env
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput --verbosity 0
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@LOG_LEVEL=ERROR $(BIN)/python manage.py seed_demo
	@echo "Serving on http://localhost:$${WEB_PORT:-8000}/ until Ctrl-C."
	@trap '' INT; PATH="$(abspath $(BIN)):$$PATH" PYTHONUNBUFFERED=1 \
	  $(BIN)/honcho -e /dev/null start; status=$$?; [ $$status -eq 130 ] || exit $$status

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

# Everything `make run`, `make test` and `make bench` generate; the tracked files stay.
clean:
	rm -rf $(VENV) .env .env.tmp var $(MO) *.egg-info .pytest_cache .ruff_cache test-artifacts control
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
