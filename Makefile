# guidebot: `make run` serves the bot with its web console; `make test` runs `make lint`, then the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install index run test bench crossfold stress lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

index: install
	$(BIN)/guidebot index

run: index
	$(BIN)/guidebot serve

# Two workers, each test file whole on one: the suite waits on servers and subprocesses as much as it computes.
TEST_WORKERS ?= 2

test: install lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

bench: index
	$(BIN)/python -m bench.run

# The question sets feed the banks: their figures on banks that have not seen them, half the sets at a time.
crossfold: index
	$(BIN)/python -m bench.crossfold

stress: index
	$(BIN)/python -m bench.stress

# ruff and mypy read their settings from pyproject.toml; mypy's paths are there too.
lint: install
	$(BIN)/ruff check bot adapters index knowledge guidebot_testing
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

clean:
	rm -rf $(VENV) data .pytest_cache
