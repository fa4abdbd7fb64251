#!/usr/bin/env bash
# Set up hardtech in ./.venv from the lock file. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.hardtech-lock
want="$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # (this machine's pip configuration warns about absent local indexes: those lines are dropped)
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock "setuptools==80.9.0" \
    2> >(grep -v "is neither a file nor a directory" >&2)
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . \
    2> >(grep -v "is neither a file nor a directory" >&2)
  echo "$want" > "$stamp"
fi
