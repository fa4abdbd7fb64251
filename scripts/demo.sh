#!/usr/bin/env bash
# Quick start 1: set up, then build the demo store and print the landscape summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/hardtech demo --dir demo "$@"
