#!/usr/bin/env bash
# A venv with crawl4ai (pinned to the version the fixtures were generated with) for
# bench/schema. Never downloads a browser: the JSON strategies need none.
# usage: bench/schema/setup.sh [VENV]   (default target/bench-venv-schema, gitignored)
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${1:-target/bench-venv-schema}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
"$VENV/bin/pip" install -q "crawl4ai==${CRAWL4AI_VERSION:-0.9.5}"
"$VENV/bin/python" -c 'from crawl4ai.__version__ import __version__ as v; print("crawl4ai", v)'
