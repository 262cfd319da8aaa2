#!/usr/bin/env bash
# Quickstart: set up (venv + deps, idempotent) and run the end-to-end demo on the embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup
exec .venv/bin/python examples/demo.py "$@"  # --keep-store: keep the span store
