# dify-integrations: two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test unit integration notebooks lint type format bench emulator clean

# Create the venv and install the package with its dev tools, once per change of pyproject.toml.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $(STAMP)

demo: $(STAMP)  ## stream an answer from a Dify app (the emulator unless DIFY_BASE_URL/DIFY_API_KEY are set)
	$(BIN)/python scripts/demo.py

test: $(STAMP) lint type  ## every test: lint, types, unit, integration, notebooks, README blocks
	$(BIN)/python -m pytest -q tests

unit: $(STAMP)  ## socket-free unit tests only
	$(BIN)/python -m pytest -q tests/transport/unit tests/langchain/unit tests/llama_index/unit --disable-socket --allow-unix-socket

integration: $(STAMP)  ## emulator-backed tests (127.0.0.1 and in-process)
	$(BIN)/python -m pytest -q tests/transport/integration tests/emulator tests/langchain/integration tests/llama_index/integration

notebooks: $(STAMP)  ## notebooks, README code blocks and the demo, against the emulator
	$(BIN)/python -m pytest -q tests/docs

lint: $(STAMP)
	$(BIN)/python scripts/unasync.py --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check dify_transport dify_emulator langchain_dify llama_index_dify

format: $(STAMP)
	$(BIN)/python scripts/unasync.py
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

type: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)  ## throughput and memory, printed side by side
	$(BIN)/python benchmarks/run.py

emulator: $(STAMP)  ## serve the offline Dify emulator on 127.0.0.1
	$(BIN)/python -m dify_emulator

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
