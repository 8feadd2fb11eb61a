#!/usr/bin/env bash
# Security scan of terraform/ with checkov, installed on first use into its own virtual environment
# (.tools/checkov): checkov pins many packages that must not mix with the project's .venv.
# Usage: scripts/checkov.sh [extra checkov arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_SPEC="checkov>=3.2,<4"
TOOL_VENV=".tools/checkov"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$TOOL_VENV/bin/checkov" ]; then
    echo "installing $CHECKOV_SPEC into $TOOL_VENV (first run, ~30-60 s)" >&2
    "$PYTHON" -m venv "$TOOL_VENV"
    "$TOOL_VENV/bin/python" -m pip install --quiet "$CHECKOV_SPEC" >"$TOOL_VENV/install.log" 2>&1 \
        || { cat "$TOOL_VENV/install.log" >&2; rm -rf "$TOOL_VENV"; exit 1; }
fi

# --download-external-modules false: there are none, and the machine may be offline.
# --skip-download: no Prisma Cloud platform calls.
exec "$TOOL_VENV/bin/checkov" -d terraform --framework terraform --compact --quiet \
    --download-external-modules false --skip-download "$@"
