#!/usr/bin/env bash
# Create a venv with crawl4ai for the render benchmark. Never downloads a browser:
# crawl4ai_bench.py points Playwright at Debian's /usr/bin/chromium instead.
# usage: bench/render/setup-crawl4ai.sh [VENV]   (default target/bench-venv, gitignored)
# env:   CRAWL4AI_VERSION (default: latest on PyPI)
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${1:-target/bench-venv}
command -v /usr/bin/chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
# crawl4ai's post-install hooks would run `playwright install`; we never call them.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "crawl4ai${CRAWL4AI_VERSION:+==$CRAWL4AI_VERSION}"
"$VENV/bin/python" -c 'from crawl4ai.__version__ import __version__ as v; print("crawl4ai", v)'
