# vnguard — two commands on a fresh machine with Python 3.11+:
#   make demo   set up .venv and score examples/posts.csv with the bundled default model
#   make test   set up .venv with the dev and transformer extras and run the whole test suite

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# torch 2.13.0 is pinned so that pip takes the local CPU build instead of a multi-GB CUDA one.
TORCH := torch==2.13.0

.PHONY: demo test lint install install-dev train-default benchmarks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet $(TORCH)
	$(PIP) install --quiet -e ".[dev,transformer,parquet]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	$(BIN)/vnguard score examples/posts.csv --output examples/posts.scored.csv
	@echo
	$(BIN)/vnguard check "em ơi đừng kể với bố mẹ nhé, gửi anh ảnh riêng tư đi"

test: $(VENV)/.installed-dev
	$(BIN)/ruff check classifier tests scripts
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check classifier tests scripts

train-default: $(VENV)/.installed
	$(BIN)/python scripts/train_default.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache examples/*.scored.*
