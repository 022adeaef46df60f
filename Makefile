# The two commands of the README: `make app` and `make test`. Both set up a fresh machine first:
# `make app` the runtime alone (no training or test extras), `make test` everything (what CI runs).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup setup-app app test test-fast
setup:
	VENV=$(VENV) bash scripts/setup.sh

setup-app:
	VENV=$(VENV) ASL_GPT_EXTRAS= bash scripts/setup.sh

app: setup-app
	$(PY) app.py

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# The unit tests alone, on a machine already set up: no browser, nothing marked slow (real MediaPipe,
# embeddings, LLM, model export). For the edit-test loop; `make test` is the whole suite.
test-fast:
	$(PY) -m pytest -q -m "not slow and not browser" $(PYTEST_ARGS)
