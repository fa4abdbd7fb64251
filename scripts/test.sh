#!/usr/bin/env bash
# Quick start 2: set up, then run the whole test suite with pytest, its files spread over the cores
# (pytest-xdist; a file's tests stay together in one worker, so its module fixtures are built once).
# HARDTECH_TEST_WORKERS=0 runs everything in this one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -n "${HARDTECH_TEST_WORKERS:-logical}" --dist loadfile "$@"
