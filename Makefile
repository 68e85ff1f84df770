# dify-integrations: two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# One stamp per install set and interpreter: `make test PYTHON=python3.12` rebuilds .venv
# with that Python (removing .venv drops every stamp, so nothing stale survives).
STAMP      := $(VENV)/.installed-dev-$(notdir $(PYTHON))
DEMO_STAMP := $(VENV)/.installed-demo-$(notdir $(PYTHON))
# What `make demo` imports, and nothing else (no dev tools, no benchmarks).
DEMO_EXTRAS := langchain,llama-index,emulator

.PHONY: demo test unit integration notebooks lint type format bench fuzz-long soak emulator lab check-extras clean

# Create .venv with $(PYTHON), unless it already runs that Python's major.minor.
define ensure_venv
	@want=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])') || exit 1; \
	have=$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	if [ "$$want" != "$$have" ]; then \
		echo "creating $(VENV) with $(PYTHON) ($$want)"; rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); \
	fi
endef

# Everything `make test` needs (dev tools, every framework, the benchmarks' baselines),
# once per change of pyproject.toml.
$(STAMP): pyproject.toml
	$(ensure_venv)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $@ $(DEMO_STAMP)

# Only what scripts/demo.py imports.
$(DEMO_STAMP): pyproject.toml
	$(ensure_venv)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[$(DEMO_EXTRAS)]'
	touch $@

demo: $(DEMO_STAMP)  ## stream an answer from a Dify app (the emulator unless DIFY_BASE_URL/DIFY_API_KEY are set)
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

bench: $(STAMP) fuzz-long  ## throughput and memory, printed side by side (after the long fuzz run)
	$(BIN)/python benchmarks/run.py

fuzz-long: $(STAMP)  ## the SSE decoder / error-envelope fuzz tests with thousands of examples
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest -q --timeout=0 tests/transport/unit/test_tr_fuzz.py
soak: $(STAMP)  ## streams for a bounded time against the emulator's chaos mode (also in bench)
	$(BIN)/python benchmarks/soak.py

emulator: $(DEMO_STAMP)  ## serve the offline Dify emulator on 127.0.0.1
	$(BIN)/python -m dify_emulator

lab: $(STAMP)  ## open the notebooks in JupyterLab (installed into .venv on first use)
	$(BIN)/python -c 'import jupyterlab' 2>/dev/null || $(BIN)/python -m pip install -q jupyterlab
	$(BIN)/python -m jupyter lab notebooks/

check-extras:  ## build the wheel; install each framework extra alone in fresh venvs; compare sizes
	$(PYTHON) scripts/check_extras.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
