#!/usr/bin/env bash
# Lint and type checks: the same commands locally and in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"
"$BIN/ruff" check allocator api models tests benchmarks
"$BIN/ruff" format --check allocator api models tests benchmarks
"$BIN/mypy" allocator models api
