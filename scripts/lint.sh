#!/usr/bin/env bash
# Lint and type checks: the same commands locally and in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"
paths=()
for path in allocator api cli models tests benchmarks; do
    [ -d "$path" ] && paths+=("$path")
done
"$BIN/ruff" check "${paths[@]}"
"$BIN/ruff" format --check "${paths[@]}"
"$BIN/mypy" allocator models api cli
