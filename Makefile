# The two commands of the README: `make app` and `make test`. Both set up a fresh machine first.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup app test
setup:
	VENV=$(VENV) bash scripts/setup.sh

app: setup
	$(PY) app.py

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)
