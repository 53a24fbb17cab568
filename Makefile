# The newcomer path: only python3 (3.11+) and make are needed.
#   make demo   set up .venv and run the main job on the embedded default (SQLite)
#   make test   set up .venv and run every check (lint, types, import layers, docs, tests)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.famplan-installed
PLUGIN_DIRS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
DEMO_DIR ?= demo-township

.PHONY: setup demo test lint typecheck docs serve-docs bench clean

$(STAMP): pyproject.toml constraints.txt $(wildcard plugins/*/pyproject.toml)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "famplan-core needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt \
		-e '.[postgres,dev]' $(foreach p,$(PLUGIN_DIRS),-e $(p))
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/famplan demo $(DEMO_DIR)

test: $(STAMP)
	scripts/test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict src $(addsuffix src,$(PLUGIN_DIRS))

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

serve-docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache .hypothesis
