# Two commands a newcomer needs: `make run` (the main job on the bundled example) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench serve clean

$(BIN)/allocator: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/allocator

run: $(BIN)/allocator
	$(BIN)/allocator solve data/realistic/realistic.json --out var/realistic-result.xlsx

test: $(BIN)/allocator
	bash scripts/test.sh

lint: $(BIN)/allocator
	bash scripts/lint.sh

bench: $(BIN)/allocator
	$(BIN)/python -m benchmarks --all

serve: $(BIN)/allocator
	$(BIN)/allocator serve

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
