# Human entry points. Every target sets up .venv first if it is missing or stale.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= out

.PHONY: setup demo test analyze clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m scripts.analyze samples --out $(OUT)

analyze: $(STAMP)
	@test -n "$(FILE)" || (echo "usage: make analyze FILE=<file or folder> [OUT=dir]" && exit 2)
	$(PY) -m scripts.analyze "$(FILE)" --out $(OUT)

test: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf $(OUT) build .pytest_cache
