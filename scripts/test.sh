#!/usr/bin/env bash
# The project's test command: lint, type checks, then the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"
bash scripts/lint.sh
"$BIN/pytest" -q "$@"
