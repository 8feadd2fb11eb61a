# Human entry points. Every target sets up .venv first if it is missing or stale.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= out

.PHONY: setup demo up burst test analyze clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

# The live local stack end to end: emulators + both functions; uploads samples/, copies reports to $(OUT)/.
demo: $(STAMP)
	$(PY) -m scripts.demo --samples samples --out $(OUT)

# Keep the live local stack running (Ctrl-C stops it); prints the environment to export.
up: $(STAMP)
	$(PY) -m scripts.local_stack

# N simultaneous uploads → N reports and N result messages (uses a running `make up` stack if exported).
burst: $(STAMP)
	$(PY) -m scripts.burst --files $(or $(N),50)

analyze: $(STAMP)
	@test -n "$(FILE)" || (echo "usage: make analyze FILE=<file or folder> [OUT=dir]" && exit 2)
	$(PY) -m scripts.analyze "$(FILE)" --out $(OUT)

test: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf $(OUT) build .pytest_cache

# One free-form prompt with Gemini's code execution (prints text, code, outputs; saves images in OUT/ask).
.PHONY: ask
ask: $(STAMP)
	@test -n "$(PROMPT)" || (echo 'usage: make ask PROMPT="..." [EXPECT=text|image] [OUT=dir]' && exit 2)
	$(PY) -m scripts.ask "$(PROMPT)" --expect $(or $(EXPECT),text) --out $(OUT)

# Benchmarks: prints figures (median of several runs), never pass/fail. Several minutes (a 1 GB file is
# generated in a temp dir); `make bench ARGS=--quick` for 10 and 100 MB only, ARGS="--only sandbox" for one part.
.PHONY: bench
bench: $(STAMP)
	$(PY) -m scripts.bench $(ARGS)
