#!/usr/bin/env bash
# Set up a virtual environment and run the service on its embedded store with the demo territory.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
exec .venv/bin/kg-twin serve --demo --data-dir "${KG_TWIN_DATA_DIR:-./twin-data}" "$@"
