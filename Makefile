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

# Two workers (pytest-xdist), a test file each at a time (module fixtures stay in one process): the browser
# tests spend most of their time waiting on the page and the embedded LLM, which the other worker fills.
TEST_WORKERS ?= 2
test: setup
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The unit tests alone, on a machine already set up: no browser, nothing marked slow (real MediaPipe,
# embeddings, LLM, model export). For the edit-test loop; `make test` is the whole suite.
test-fast:
	$(PY) -m pytest -q -m "not slow and not browser" $(PYTEST_ARGS)
