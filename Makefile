# Two commands do everything on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AGENTS_DIR := .cache/agents

.PHONY: demo test lint typecheck pytest venv sysdeps agents bench clean test-local-model

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

# System packages used by tests: headless chromium (report), bubblewrap (sandbox), tmux (watch).
sysdeps:
	@bash scripts/install-sysdeps.sh

# Pinned real agent CLIs, installed into a gitignored cache.
agents:
	@bash scripts/install-agents.sh $(AGENTS_DIR)

# A real local model end to end: llama-server built from the llama-cpp-python sdist and SmolLM2-135M,
# cached in ~/.cache/ralph/llama-server (about 5 min on 2 cores the first time), then the localmodel tests.
test-local-model: $(STAMP) agents
	bash scripts/build-llama-server.sh
	$(BIN)/pytest -q -m localmodel tests/agents/test_local_model.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# Bytecode caching on: Python 3.11 can raise a spurious "AST constructor recursion depth mismatch" when
# threads compile source concurrently (CPython gh-106905); cached .pyc files keep compiles rare.
pytest: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m compileall -q src tests >/dev/null
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 1; fi; exit $$rc

test: $(STAMP) sysdeps agents lint typecheck pytest

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
