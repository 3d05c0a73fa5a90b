#!/usr/bin/env bash
# Bytes per result of a crawl job in Redis (`gannet serve --redis`): a crawl job over the
# Rust book (rustup's docs, served on loopback by python's http.server), then Redis'
# MEMORY USAGE of the job's keys (results stream, URL de-duplication hash, job hash)
# divided by the results, beside the results' JSON size before compression.
#
# usage: bench/runs/2026-12-07-cluster/bytes_per_result.sh [PAGES]   (default 300)
# env:   START (/book/: the path crawled, scope prefix), BIN (target/debug/gannet), DOCS (rustup's share/doc/rust/html)
set -euo pipefail
cd "$(dirname "$0")/../../.."
PAGES=${1:-300}
START=${START:-/book/}
BIN=${BIN:-target/debug/gannet}
DOCS=${DOCS:-$(ls -d ~/.rustup/toolchains/*/share/doc/rust/html | head -1)}
TMP=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RP=$(free_port); HP=$(free_port); SP=$(free_port)
redis-server --port "$RP" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP" >/dev/null &
RPID=$!
(cd "$DOCS" && exec python3 -m http.server "$HP" --bind 127.0.0.1 >/dev/null 2>&1) &
HPID=$!
printf '[jobs]\ncrawl_delay_ms = 0\n' > "$TMP/gannet.toml"
"$BIN" serve --config "$TMP/gannet.toml" --redis "redis://127.0.0.1:$RP" --listen "127.0.0.1:$SP" \
  --allow-private --data-dir "$TMP/data" -q 2>"$TMP/serve.log" &
SPID=$!
trap 'kill $SPID $HPID $RPID 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$SP/health" >/dev/null && break; sleep 0.1; done
ID=$(curl -sf -X POST "http://127.0.0.1:$SP/jobs" -H 'content-type: application/json' \
  -d "{\"crawl\": {\"url\": \"http://127.0.0.1:$HP$START\", \"limit\": $PAGES, \"scope\": \"prefix\", \"sitemaps\": false}}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
while :; do
  S=$(curl -sf "http://127.0.0.1:$SP/jobs/$ID" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["status"], j["done"])')
  case $S in completed*|failed*|cancelled*) break;; esac
  sleep 1
done
echo "job $ID: $S"
RAW=$(curl -sf "http://127.0.0.1:$SP/jobs/$ID/results.ndjson" | python3 -c '
import sys
n = b = 0
for line in sys.stdin.buffer:
    n += 1; b += len(line) - 1
print(n, b)')
mem() { redis-cli -p "$RP" MEMORY USAGE "$1" SAMPLES 0; }
STREAM=$(mem "gj:{$ID}:r"); URLS=$(mem "gj:{$ID}:u"); JOB=$(mem "gj:{$ID}")
FRONTIER=$(redis-cli -p "$RP" INFO memory | awk -F: '/^used_memory:/{print $2}' | tr -d '\r')
python3 - "$RAW" "$STREAM" "$URLS" "$JOB" "$FRONTIER" <<'PY'
import sys
n, raw = map(int, sys.argv[1].split())
stream, urls, job, used = map(int, sys.argv[2:])
print(f"results: {n}; JSON before compression: {raw / n:,.0f} B per result")
print(f"in Redis: stream {stream / n:,.0f} B + URL hash {urls / n:,.0f} B + job hash {job / n:,.1f} B "
      f"= {(stream + urls + job) / n:,.0f} B per result ({raw / (stream + urls + job):.2f}x smaller than the JSON)")
print(f"Redis used_memory (everything, frontier and job): {used / n:,.0f} B per result")
PY
